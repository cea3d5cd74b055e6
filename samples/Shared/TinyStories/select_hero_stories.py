"""Writes hero-stories.txt for the hero-request demo: stories of the TinyStories sample that are ASCII-only, 60-250
   words long and not among the general-text stories of stories.txt (records 281-360 of that file, the demos'
   forgetting check), whose FIRST SENTENCE introduces an ANIMAL hero (an animal word, no child word) or a CHILD hero
   (girl, boy, child or kid, no animal word); the word lists are HeroKinds.cs'. The two kinds are interleaved (animal,
   child, animal, ...) up to the smaller count, so every split of the file in order is balanced.
   /usr/bin/python3 select_hero_stories.py ../../../../shared/data/tinystories_sample/stories.dev.txt   (run from this folder)"""
import re, sys
ANIMALS = set(open('../Stories/HeroKinds.cs', encoding='utf-8').read().split('AnimalWords =')[1].split('"')[1].split())
CHILDREN = set(open('../Stories/HeroKinds.cs', encoding='utf-8').read().split('ChildWords =')[1].split('"')[1].split())
def kind(story):
    first = re.split(r'[.!?]', story, maxsplit=1)[0]
    words = {w[:-1] if w.endswith('s') and w[:-1] in ANIMALS | CHILDREN else w for w in re.findall(r'[a-z]+', first.lower())}
    animal, child = bool(words & ANIMALS), bool(words & CHILDREN)
    return 'animal' if animal and not child else 'child' if child and not animal else None
src = open(sys.argv[1], encoding='utf-8').read().split('<|endoftext|>')
stories = [s.strip() for s in src if s.strip()]
bundled = [s.strip() for s in open('stories.txt', encoding='utf-8').read().split('<|endoftext|>') if s.strip()]
general = set(bundled[280:360])
ok = [s for s in stories if s.isascii() and s not in general and 60 <= len(s.split()) <= 250]
animal = [s for s in ok if kind(s) == 'animal']
child = [s for s in ok if kind(s) == 'child']
n = min(len(animal), len(child))
with open('hero-stories.txt', 'w', encoding='utf-8', newline='\n') as f:
    for a, c in zip(animal[:n], child[:n]): f.write(a + '\n<|endoftext|>\n' + c + '\n<|endoftext|>\n')
print(f'{2 * n} stories ({n} animal heroes, {n} child heroes; {len(animal)} and {len(child)} were available)')
