"""Writes dialogue-stories.txt for the dialogue-request demo: stories of the TinyStories sample that are ASCII-only,
   60-250 words long and not among the general-text stories of stories.txt (records 281-360 of that file, the demos'
   forgetting check), in two kinds: WITH dialogue (a double quote within the first 45 words, so the dialogue starts in
   the part of the story the demo trains on and generates) and WITHOUT dialogue (no double quote anywhere). The two
   kinds are interleaved (with, without, with, ...) up to the smaller count, so every split of the file in order is balanced.
   /usr/bin/python3 select_dialogue_stories.py ../../../../shared/data/tinystories_sample/stories.dev.txt   (run from this folder)"""
import sys
src = open(sys.argv[1], encoding='utf-8').read().split('<|endoftext|>')
stories = [s.strip() for s in src if s.strip()]
bundled = [s.strip() for s in open('stories.txt', encoding='utf-8').read().split('<|endoftext|>') if s.strip()]
general = set(bundled[280:360])
ok = [s for s in stories if s.isascii() and s not in general and 60 <= len(s.split()) <= 250]
talk = [s for s in ok if '"' in s and len(s[:s.index('"')].split()) <= 45]
quiet = [s for s in ok if '"' not in s]
n = min(len(talk), len(quiet))
with open('dialogue-stories.txt', 'w', encoding='utf-8', newline='\n') as f:
    for a, b in zip(talk[:n], quiet[:n]): f.write(a + '\n<|endoftext|>\n' + b + '\n<|endoftext|>\n')
print(f'{2 * n} stories ({n} with dialogue, {n} without; {len(talk)} and {len(quiet)} were available)')
