"""Pinyin keys for names, so 张三 is found by `zhangsan` and `zs` (pypinyin, heteronym-aware)."""

from functools import lru_cache
from itertools import product

from pypinyin import Style, pinyin

# The toneless syllables of Mandarin as pypinyin spells them (ü as v), written out: built from
# its dictionary this took 0.8 s per process. For telling pinyin typed in syllables from words.
SYLLABLES = frozenset(
    (
        "a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu "
        "ca cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou "
        "chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang "
        "dao de dei den deng di dia dian diao die din ding diu dong dou du duan dui dun duo e ei en "
        "eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong "
        "gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hm hng hong hou "
        "hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan "
        "jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la "
        "lai lan lang lao le lei len leng li lia lian liang liao lie lin ling liu lo long lou lu "
        "luan lun luo lv lve m ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo "
        "mou mu n na nai nan nang nao ne nei nen neng ng ni nia nian niang niao nie nin ning niu "
        "nong nou nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin "
        "ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao "
        "re ren reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai "
        "shan shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si "
        "song sou su suan sui sun suo ta tai tan tang tao te tei teng ti tian tiao tie ting tong "
        "tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wong wu xi xia xian xiang xiao xie "
        "xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue "
        "yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi "
        "zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo "
    ).split()
)

_MAX_READINGS = 8  # 单/曾/解… have several readings; keep a few combinations, not all

# How a surname is read, where it is not a character's first reading: 单雄信 is Shan Xiongxin,
# but pypinyin lists dan, chan, shan and only two readings a character are kept. The surname's
# reading goes first, the usual one after it. Compound surnames by their two characters.
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao", "查": "zha",
    "乐": "yue", "盖": "ge", "缪": "miao", "覃": "qin", "员": "yun", "折": "she", "翟": "zhai",
    "种": "chong", "繁": "po", "召": "shao", "秘": "bi", "句": "gou", "阚": "kan", "任": "ren",
    "薄": "bo", "牟": "mou", "冼": "xian", "都": "du", "尉迟": "yu chi", "万俟": "mo qi",
    "长孙": "zhang sun", "令狐": "ling hu",
}  # fmt: skip


@lru_cache(maxsize=50_000)
def pinyin_keys(name: str) -> tuple[str, str]:
    """Return (full, initials), each a space-separated list of the plausible readings."""
    if not name:
        return "", ""
    readings = pinyin(name, style=Style.NORMAL, heteronym=True, errors="ignore")
    surname = SURNAME_READINGS.get(name[:2]) or SURNAME_READINGS.get(name[:1])
    if surname and len(readings) >= len(surname.split()):
        for i, said in enumerate(surname.split()):
            readings[i] = [said, *(r for r in readings[i] if r != said)]
    readings = [r[:2] for r in readings]  # at most two readings per character
    fulls, initials = [], []
    for combo in product(*readings):
        fulls.append("".join(combo).replace("ü", "v"))
        initials.append("".join(c[0] for c in combo if c))
        if len(fulls) >= _MAX_READINGS:
            break
    return " ".join(dict.fromkeys(fulls)), " ".join(dict.fromkeys(initials))


def is_pinyin(word: str) -> bool:
    """Can `word` be read as pinyin syllables (zhang, fengrui, xian)? John and Smith cannot."""
    word = word.lower()
    ok = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        ok[end] = any(
            ok[start] and word[start:end] in SYLLABLES for start in range(max(0, end - 6), end)
        )
    return ok[-1]
