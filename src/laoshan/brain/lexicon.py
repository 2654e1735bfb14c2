"""The words the offline planner knows, Chinese and English: what they mean to it, and the words
that carry no instruction (articles, particles, politeness), so that every word of an instruction
can be accounted for (:mod:`laoshan.brain.screening`)."""

from __future__ import annotations

COLOUR_WORDS = {"red": ("red", "红"), "green": ("green", "绿"), "blue": ("blue", "蓝"), "yellow": ("yellow", "黄"),
                "purple": ("purple", "紫"), "white": ("white", "白"), "black": ("black", "黑")}
KIND_WORDS = {"box": ("box", "盒", "箱"), "cylinder": ("can", "cylinder", "bottle", "罐", "瓶", "杯", "cup"),
              "sphere": ("ball", "sphere", "球")}
PICK_WORDS = ("pick", "take", "grab", "lift", "get", "拿", "抓", "取", "举")
PUT_WORDS = ("put", "place", "move", "set", "bring", "放", "搬", "移")
IT_WORDS = (" it", "它")
OPEN_WORDS = ("open", "打开", "拉开", "开启")
CLOSE_WORDS = ("close", "shut", "关上", "关闭", "关好", "合上", "推上", "关")
PRESS_WORDS = ("press", "push", "hit", "ring", "按")
GIVE_WORDS = ("give", "hand me", "hand it", "hand over", "pass me", "bring me", "bring it", "递给", "给我", "交给",
              "拿给", "递")
LOOK_AROUND_WORDS = ("look around", "around you", "what do you see", "环顾", "四处看", "看看周围", "看看四周",
                     "周围有什么", "你看到了什么", "看到什么")
ZH_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8",
             "九": "9"}

# Words that carry no instruction of their own: articles, prepositions, particles, measure words,
# politeness; and the words around the ones above ("pick *up*", "拿*起*", "放*到*…*上*").
FILLER_WORDS = (
    "the", "a", "an", "please", "kindly", "could", "can", "would", "will", "you", "u", "for", "me", "my", "up",
    "down", "on", "onto", "in", "into", "to", "at", "of", "from", "and", "then", "first", "next", "after", "that",
    "this", "one", "ones", "there", "here", "now", "thanks", "thank", "ok", "okay", "hey", "hi", "robot", "just",
    "again", "also", "over", "top", "number", "no", "side", "end", "table", "it", "around", "let", "lets", "let's",
    "go", "do", "i", "want", "need", "like", "colour", "color", "colored", "coloured", "object", "thing", "item",
    "请", "请你", "麻烦", "麻烦你", "帮我", "帮忙", "帮", "你", "您", "我", "我们", "把", "将", "的", "地", "得",
    "一下", "一个", "个", "只", "件", "先", "再", "然后", "之后", "接着", "最后", "起来", "起", "到", "在", "上",
    "上面", "里", "里面", "去", "来", "一", "下", "吧", "呢", "啊", "呀", "好", "好吗", "可以", "能", "谢谢", "谢",
    "色", "颜色", "子", "号", "工位", "站", "位", "边", "和", "并", "并且", "它", "这", "那", "这个", "那个", "东西",
    "物体", "桌子", "桌上", "看", "要", "想",
)
