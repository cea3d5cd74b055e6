"""Writes named-stories.txt: every story of the TinyStories sample that is ASCII-only, names its main character as
   "a girl named X" / "a boy named X", and is not one of the general-text stories of stories.txt (records 281-360 of
   that file, the demos' forgetting check), in sample order.
   /usr/bin/python3 select_named_stories.py ../../../../shared/data/tinystories_sample/stories.dev.txt   (run from this folder)"""
import re, sys
src = open(sys.argv[1], encoding='utf-8').read().split('<|endoftext|>')
stories = [s.strip() for s in src if s.strip()]
bundled = [s.strip() for s in open('stories.txt', encoding='utf-8').read().split('<|endoftext|>') if s.strip()]
general = set(bundled[280:360])
named = re.compile(r'\b(girl|boy) named ([A-Z][a-z]+)\b')
picked = [(i + 1, s) for i, s in enumerate(stories) if s.isascii() and s not in general and named.search(s)]
with open('named-stories.txt', 'w', encoding='utf-8', newline='\n') as f:
    for _, s in picked: f.write(s + '\n<|endoftext|>\n')
print(len(picked), 'stories; source records', picked[0][0], '...', picked[-1][0])
