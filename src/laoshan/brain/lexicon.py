"""The words the offline planner knows, Chinese and English, and what each means to it.

Every surface form maps to a concept ``(kind, value)``: an action (``act``: pick, put, give, open,
close, press, look_around), a colour, an object kind (box, cylinder, sphere: the shapes perception
tells apart), a number or ordinal, a word that marks a station, a side or an end of the table, a
nearest / middle / next-to reference, a negation, a conjunction, a sequence marker, "it", a
person to hand something to, a vague place or object (which gets a question), a fixture or button
kind, or a filler (articles, particles, politeness, manner: words that carry no instruction of
their own). :mod:`laoshan.brain.language` tags an instruction with these, so that every word is
accounted for, and :mod:`laoshan.brain.planner` reads the tags.
"""

from __future__ import annotations

Concept = tuple[str, str]

ACT = {
    "pick": ("pick", "pick up", "take", "grab", "lift", "get", "fetch", "collect", "raise", "hold", "hold up", "snatch",
             "拿", "拿起", "拿起来", "抓", "抓起", "取", "举", "举起", "拎", "拎起", "提", "提起", "捡", "捡起",
             "端起", "抓住"),
    "put": ("put", "place", "move", "set", "set down", "bring", "relocate", "shift", "carry", "transfer", "drop",
            "drop off", "deliver", "stick", "pop", "leave", "position the", "lay",
            "放", "放下", "搬", "移", "挪", "搁", "摆", "送", "转移", "移动", "搬运", "移到", "运", "安放"),
    "give": ("give", "hand", "hand over", "pass", "gimme", "can i have", "could i have", "may i have", "i'd like",
             "i would like", "i want", "i need", "递", "给", "交给", "拿给", "递给", "给我", "我要", "我想要", "交"),
    "open": ("open", "open up", "pull", "pull out", "pull open", "slide", "slide open", "swing", "swing open",
             "打开", "拉开", "开启", "开", "拉出来", "拉出", "打开来"),
    "close": ("close", "shut", "push back", "back in", "push in", "关上", "关闭", "关好", "合上", "推上", "关",
              "推回去", "推回", "推进去", "关起来"),
    "press": ("press", "push", "hit", "ring", "tap", "按", "按下", "摁", "摁下", "按一下", "点一下"),
    "look_around": ("look around", "around you", "what do you see", "what can you see", "环顾", "环顾四周", "四处看",
                    "看看周围", "看看四周", "周围有什么", "你看到了什么", "看到什么", "你看见了什么"),
}
COLOUR = {"red": ("red", "红", "红色"), "green": ("green", "绿", "绿色"), "blue": ("blue", "蓝", "蓝色"),
          "yellow": ("yellow", "黄", "黄色"), "purple": ("purple", "紫", "紫色"), "white": ("white", "白", "白色"),
          "black": ("black", "黑", "黑色"), "orange": ("orange", "橙", "橙色"), "pink": ("pink", "粉", "粉色"),
          "brown": ("brown", "棕", "棕色"), "grey": ("grey", "gray", "灰", "灰色")}
KIND = {"box": ("box", "boxes", "crate", "carton", "block", "cube", "package", "parcel", "case",
                "盒", "盒子", "箱", "箱子", "方块", "纸箱", "方盒"),
        "cylinder": ("can", "cans", "tin", "cylinder", "bottle", "cup", "soda can", "soda", "canister", "drink",
                     "mug", "罐", "罐子", "易拉罐", "瓶", "瓶子", "杯", "杯子", "饮料", "圆柱"),
        "sphere": ("ball", "balls", "sphere", "球", "小球", "皮球", "圆球")}
NUMBER = {str(n): (str(n), word, zh) for n, word, zh in (
    (1, "one", "一"), (2, "two", "二"), (3, "three", "三"), (4, "four", "四"), (5, "five", "五"), (6, "six", "六"),
    (7, "seven", "七"), (8, "eight", "八"), (9, "nine", "九"), (10, "ten", "十"))}
NUMBER["2"] += ("两",)
ORDINAL = {str(n): (word, f"第{zh}", f"{n}th", f"{n}st", f"{n}nd", f"{n}rd") for n, word, zh in (
    (1, "first", "一"), (2, "second", "二"), (3, "third", "三"), (4, "fourth", "四"), (5, "fifth", "五"),
    (6, "sixth", "六"), (7, "seventh", "七"), (8, "eighth", "八"), (9, "ninth", "九"))}
MARKS = {
    "station": ("station", "stations", "workstation", "work station", "position", "spot", "slot", "st", "#",
                "工位", "位", "位置", "台", "工作台", "号位", "工作位"),
    "number_mark": ("号", "number"),            # "3号", "number 3" (and "no. 3", "st. 3": read as these)
    "side:left": ("left", "left hand", "left hand side", "left side", "左", "左边", "左侧", "左面"),
    "side:right": ("right", "right hand", "right hand side", "right side", "右", "右边", "右侧", "右面"),
    "end": ("end", "far", "most", "far end", "最", "端", "那头", "头", "尽头", "最边上", "edge"),
    "near": ("nearest", "closest", "nearest me", "closest to me", "nearest to me", "离我最近", "最近", "近处",
             "离你最近"),
    "middle": ("middle", "center", "centre", "in between", "中间", "正中间", "当中"),
    "next": ("next to", "beside", "by the", "near the", "旁边", "挨着", "边上", "附近"),
    "not": ("not", "don't", "do not", "but", "except", "instead of", "rather than", "别", "不要", "不是", "不用",
            "而不是", "除了"),
    "and": ("and", "&", "as well as", "plus", "和", "跟", "与", "以及", "还有"),
    "or": ("or", "either", "或", "或者", "还是"),
    "then": ("then", "and then", "after that", "afterwards", "next", "after", "once done", "when done",
             "然后", "再", "之后", "以后", "接着", "完了", "随后", "后", "并", "并且"),
    "it": ("it", "它", "它们"),
    "person": ("me", "her", "him", "them", "us", "customer", "lady", "gentleman", "man", "woman", "visitor", "guest",
               "sir", "madam", "client", "person", "我", "她", "他", "顾客", "客人", "客户", "先生", "女士", "小姐"),
    "vague_place": ("somewhere", "anywhere", "a station", "some station", "某个地方", "哪里都行", "随便放"),
    "vague_object": ("something", "anything", "thing", "object", "item", "stuff", "whatever", "东西", "物体",
                     "物品", "随便"),
    "fixture:drawer": ("drawer", "抽屉"),
    "fixture:door": ("door", "cabinet", "cupboard", "cabinet door", "cupboard door", "门", "柜门", "柜子", "橱柜",
                     "柜子门", "橱柜门"),
    "fixture:button": ("button", "switch", "key", "按钮", "开关", "按键", "键", "钮", "启动键"),
}
# Words that carry no instruction of their own: articles, prepositions, particles, measure words,
# politeness, hesitation, manner; and the words around the ones above ("pick *up*", "拿*起*", "放*到*…*上*").
FILLER = (
    "the", "a", "an", "please", "plz", "pls", "kindly", "could", "can you", "could you", "would you", "will you",
    "would you mind", "can you please", "you", "u", "for", "for me", "up", "down", "on", "onto", "in", "into", "to",
    "at", "of", "from", "off", "with", "first", "that", "this", "those", "these", "one", "ones", "there", "here",
    "now", "right now", "thanks", "thank you", "thank", "ok", "okay", "so", "ok so", "hey", "hi", "hello", "robot",
    "just", "again", "also", "over", "top", "side", "table", "counter", "around", "let's", "lets", "go", "do", "i'd",
    "like", "colour", "color", "colored", "coloured", "um", "uh", "er", "hmm", "well", "carefully", "gently",
    "slowly", "quickly", "asap", "soon", "once", "too", "i'd like you to", "i want you to", "i need you to",
    "my", "your", "its", "is", "are", "all", "back", "out", "away", "both", "each", "single", "mind",
    "请", "请你", "麻烦", "麻烦你", "劳驾", "帮我", "帮忙", "帮", "你", "您", "我们", "把", "将", "的", "地", "得",
    "一下", "一个", "个", "只", "件", "块", "先", "起来", "起", "到", "在", "上", "上面", "里", "里面",
    "去", "来", "过来", "过去", "一", "下", "吧", "呢", "啊", "呀", "啦", "哦", "嗯", "呃", "那个", "这个", "那", "这",
    "好", "好吗", "可以", "可以吗", "能", "能不能", "能否", "行吗", "谢谢", "谢谢你", "谢谢啦", "谢", "多谢", "色",
    "颜色", "子", "边", "面", "桌子", "桌上", "桌面", "柜台", "柜台上", "看", "要", "想", "小心", "小心地", "轻轻",
    "轻轻地", "慢慢", "慢慢地", "马上", "赶紧", "快", "你好", "机器人", "那位", "这位", "出来", "儿", "些", "着",
    "了", "就", "也", "又", "还", "都", "同时", "一起",
)
NEEDS_DETERMINER = ("drink",)   # a noun and a verb alike: an object's kind only after "the", "a", a colour ...
DETERMINERS = ("the", "a", "an", "this", "that", "my", "your", "some")


def concepts() -> dict[str, list[Concept]]:
    """Every surface form (lower case) and the concepts it may mean (the first is the usual one)."""
    table: dict[str, list[Concept]] = {}

    def add(forms: tuple[str, ...], concept: Concept) -> None:
        for form in forms:
            table.setdefault(form.lower(), []).append(concept)

    for act, forms in ACT.items():
        add(forms, ("act", act))
    for colour, forms in COLOUR.items():
        add(forms, ("colour", colour))
    for kind, forms in KIND.items():
        add(forms, ("kind", kind))
    for n, forms in NUMBER.items():
        add(forms, ("num", n))
    for n, forms in ORDINAL.items():
        add(forms, ("ord", n))
    for mark, forms in MARKS.items():
        kind, _, value = mark.partition(":")
        add(forms, (kind, value))
    add(FILLER, ("filler", ""))
    return table
