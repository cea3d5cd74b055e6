"""Tokenizer golden ids for tests/FineTune.MLNet.Tests/Llama2c (run from the repository root with /usr/bin/python3):

    /usr/bin/python3 tests/FineTune.MLNet.Tests/Fixtures/llama2c/make_tokenizer_golden.py

Encodes with ../shared/reference/llama2c.py (run.c's encode: BOS, dummy-prefix space, characters or byte fallback,
best-score merges) using tok512.bin (committed beside this script, from ../shared/models/tinystories-260k, MIT):
  strings: hand-written texts (digits, punctuation, emoji and other byte-fallback characters, spaces, newlines) and
           their ids
  stories: the first 10 stories of ../shared/data/tinystories_sample/stories.dev.txt (TinyStories, CDLA-Sharing-1.0,
           Eldan & Li 2023) with their ids
  all_stories: for all 1,500 stories, the id count and the first 16 hex digits of sha256 of the ids joined by ","
"""
import hashlib, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.abspath(os.path.join(HERE, '..', '..', '..', '..', '..', 'shared'))
sys.path.insert(0, os.path.join(SHARED, 'reference'))
import llama2c  # noqa: E402

STRINGS = [
    "", "a", " ", "  ", "Hello world", " Hello world", "Hello world ", "  two leading, two trailing  ",
    "Once upon a time, there was a little girl named Lily.", "In 1999 she was 7; by 2024, 32 (or 31?).",
    "3.14159 + 2.71828 = 5.85987", "Wow!!! What?! \"Quoted\" 'single' (paren) [bracket] {brace} <angle>",
    "email@example.com #hash $5.00 50% a&b a*b a_b a-b a/b a\\b a|b ~tilde `tick` ^caret",
    "Tab\there", "Line one.\nLine two.\n\nLine four.", "\n", "trailing newline\n",
    "I love 🍕 and 🐶!", "🙂", "emoji 👩‍👩‍👧 family", "café naïve résumé", "日本語のテキスト", "Ünïcödé Ω≈ç√∫",
"dog.Dog,DOG;dOg:", "   ", "a  b   c", "ZZZZ welZZZ",
]


def ids_key(ids): return hashlib.sha256(','.join(map(str, ids)).encode()).hexdigest()[:16]


def main():
    toks, scores = llama2c.load_tokenizer(os.path.join(HERE, 'tok512.bin'), 512)
    enc = lambda s: llama2c.encode(toks, scores, s)
    stories = [s.strip() for s in open(os.path.join(SHARED, 'data', 'tinystories_sample', 'stories.dev.txt'), encoding='utf-8')
               .read().split('<|endoftext|>') if s.strip()]
    golden = {
        'command': '/usr/bin/python3 tests/FineTune.MLNet.Tests/Fixtures/llama2c/make_tokenizer_golden.py',
        'stories_license': 'TinyStories (Eldan & Li 2023), CDLA-Sharing-1.0',
        'strings': [{'text': s, 'ids': enc(s)} for s in STRINGS],
        'stories': [{'text': s, 'ids': enc(s)} for s in stories[:10]],
        'all_stories': [],
    }
    for s in stories:
        ids = enc(s)
        golden['all_stories'].append({'count': len(ids), 'sha': ids_key(ids)})
    with open(os.path.join(HERE, 'tokenizer-golden.json'), 'w', encoding='utf-8') as f:
        json.dump(golden, f, ensure_ascii=False)
    print(len(stories), sum(g['count'] for g in golden['all_stories']), 'ids')


if __name__ == '__main__':
    main()
