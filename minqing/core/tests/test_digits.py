"""core.digits: the one check of typed digits (superscripts and overlong numbers refused)."""

from minqing.core.digits import plain_digits, positive_id


def test_plain_digits_only_ascii():
    assert plain_digits("0123")
    assert not plain_digits("")
    assert not plain_digits("²")
    assert not plain_digits("1²")
    assert not plain_digits("１２")  # full-width
    assert not plain_digits("-1")
    assert not plain_digits(" 1")


def test_plain_digits_lengths():
    assert plain_digits("123456", length=6)
    assert not plain_digits("12345", length=6)
    assert plain_digits("1" * 18, max_len=18)
    assert not plain_digits("1" * 19, max_len=18)


def test_positive_id():
    assert positive_id("42") == 42
    assert positive_id(" 7 ") == 7
    assert positive_id(9) == 9
    for raw in (None, "", "0", "-3", "²", "1e3", "1" * 12, "abc"):
        assert positive_id(raw) is None, raw
