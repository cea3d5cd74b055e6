"""Writes stories.txt: the first 360 stories of the TinyStories sample that are ASCII-only and 60-130 words long.
   /usr/bin/python3 select_stories.py ../../../../shared/data/tinystories_sample/stories.dev.txt   (run from this folder)"""
import sys
src = open(sys.argv[1], encoding='utf-8').read().split('<|endoftext|>')
stories = [s.strip() for s in src if s.strip()]
picked = [(i + 1, s) for i, s in enumerate(stories) if s.isascii() and 60 <= len(s.split()) <= 130][:360]
with open('stories.txt', 'w', encoding='utf-8', newline='\n') as f:
    for _, s in picked: f.write(s + '\n<|endoftext|>\n')
print(len(picked), 'stories; source records', picked[0][0], '...', picked[-1][0])
