"""Seed the case categories (数字城管 event and component classes + community matters), the
default time limits (12345 practice) and the escalation rules. All are editable in the admin."""

from django.db import migrations

CATEGORIES = [
    # code, name, parent code, default type, zoning sensitive
    ("01", "市容环境", None, "complaint", False),
    ("0101", "暴露垃圾", "01", "complaint", False),
    ("0102", "道路积水", "01", "help", False),
    ("0103", "环境污染", "01", "complaint", False),
    ("0104", "油烟噪声扰民", "01", "complaint", False),
    ("02", "宣传广告", None, "report", False),
    ("0201", "非法小广告", "02", "report", False),
    ("03", "施工管理", None, "report", False),
    ("0301", "施工扰民", "03", "complaint", False),
    ("0302", "私搭乱建", "03", "report", True),
    ("0303", "违法建设", "03", "report", True),
    ("04", "突发事件", None, "help", False),
    ("0401", "火灾隐患", "04", "report", False),
    ("0402", "路面塌陷", "04", "help", False),
    ("05", "街面秩序", None, "complaint", False),
    ("0501", "占道经营", "05", "complaint", False),
    ("0502", "乱停乱放", "05", "complaint", False),
    ("06", "公用设施", None, "help", False),
    ("0601", "路灯损坏", "06", "help", False),
    ("0602", "井盖缺失", "06", "help", False),
    ("0603", "下水道堵塞", "06", "help", False),
    ("0604", "供水供电故障", "06", "help", False),
    ("07", "社区事务", None, "help", False),
    ("0701", "矛盾纠纷", "07", "help", False),
    ("0702", "民生求助", "07", "help", False),
    ("0703", "政策咨询", "07", "consult", False),
    ("0704", "就业需求", "07", "help", False),
    ("0705", "物业管理", "07", "complaint", False),
    ("0706", "信访事项", "07", "complaint", False),
    ("0707", "意见建议", "07", "suggestion", False),
    ("99", "其他", None, "help", False),
]

# stage, case type, priority, channel, working days, working hours
LIMITS = [
    ("register", "", "", "", 0, 4),
    ("register", "", "urgent", "", 0, 1),
    ("dispatch", "", "", "", 1, 0),
    ("dispatch", "", "urgent", "", 0, 1),
    ("handle", "", "", "", 3, 0),  # help and consultations: within 3 working days
    ("handle", "complaint", "", "", 13, 0),  # complaints, reports, suggestions: 13
    ("handle", "report", "", "", 13, 0),
    ("handle", "suggestion", "", "", 13, 0),
    ("handle", "", "urgent", "", 0, 0),  # emergencies: the same day
    ("handle", "", "", "reception", 7, 0),  # reception-day matters: 7 working days
    ("verify", "", "", "", 1, 0),
    ("verify", "", "urgent", "", 0, 2),
]

# level → working days late before going one level up (grid at once, community after 2 …)
ESCALATION = [(5, 0), (4, 0), (3, 2), (2, 3)]


def seed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    TimeLimit = apps.get_model("cases", "TimeLimit")
    EscalationRule = apps.get_model("cases", "EscalationRule")
    by_code = {}
    for i, (code, name, parent, kind, zoning) in enumerate(CATEGORIES):
        by_code[code] = Category.objects.create(
            code=code,
            name=name,
            parent=by_code.get(parent),
            default_type=kind,
            zoning_sensitive=zoning,
            sort=i,
        )
    for stage, case_type, priority, channel, days, hours in LIMITS:
        TimeLimit.objects.create(
            stage=stage,
            case_type=case_type,
            priority=priority,
            channel=channel,
            working_days=days,
            working_hours=hours,
        )
    for level, grace in ESCALATION:
        EscalationRule.objects.create(level=level, grace_working_days=grace)


def unseed(apps, schema_editor):
    for model in ("TimeLimit", "EscalationRule", "Category"):
        apps.get_model("cases", model).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
