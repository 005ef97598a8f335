"""Printable cards and forms (民情联系卡, 黄丝带卡, 走访记录表) for A4 and card size."""
