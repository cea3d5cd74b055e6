"""Writes opening-stories.txt for the story-request demo: stories of the TinyStories sample that are ASCII-only, at most
   400 words long, not among the general-text stories of stories.txt (records 281-360 of that file, the demos'
   forgetting check), and whose first sentence opens "Once upon a time(,) there was|lived a(n) [up to 3 words] HERO"
   followed by named / who / that / called / with / in / and / on / at / from or punctuation. HERO (the noun the
   request asks for) is written before each story on a line "hero: HERO". Words that the pattern takes for a hero but
   are adjectives or not a story's subject are skipped (STOP).
   Held-out and validation stories open exactly "Once upon a time, there was " (the demo's evaluation prompt ends
   with these words, so they are a true prefix of every held-out story); training has all the forms.
   Held-out set (60): the first 6 girl and 4 boy stories, then for every other hero with two or more stories its last
   such one for the first 35 such heroes (the others stay in training: a hero seen in training), then 15 heroes with a
   single story (never seen in training). Validation (40): the same rule on what is left (4 girl, 3 boy, 25 seen
   heroes, then 8 that are neither in training nor in the held-out set). Training: the rest. The file lists training, validation, held-out,
   in that order; OpeningStories.cs splits it by the counts written in the first line.
   /usr/bin/python3 select_opening_stories.py ../../../../shared/data/tinystories_sample/stories.dev.txt   (run from this folder)"""
import collections, re, sys
PATTERN = re.compile(r'^Once upon a time,? there (?:was|lived) (?:a|an) (?:[a-z]+,? ){0,3}?([a-z]+)(?= (?:named|who|that|called|with|in|and|on|at|from)\b|[.,!])')
OPENING = 'Once upon a time, there was '   # the held-out and validation stories open exactly so (the evaluation prompt ends with it)
STOP = set('big small little floating kind mine story walk place dream game sound light land animals mommy deep'.split())
src = [s.strip() for s in open(sys.argv[1], encoding='utf-8').read().split('<|endoftext|>') if s.strip()]
bundled = [s.strip() for s in open('stories.txt', encoding='utf-8').read().split('<|endoftext|>') if s.strip()]
general = set(bundled[280:360])
stories = []
for s in src:
    m = PATTERN.match(s)
    if s.isascii() and s not in general and len(s.split()) <= 400 and m and m.group(1) not in STOP:
        stories.append((m.group(1), s))
count = collections.Counter(h for h, _ in stories)

def pick(pool, n, girls, boys, seen, exclude_heroes):
    """Indices (into pool) of a balanced set: girls, boys, then the last story of up to `seen` repeated heroes, then singletons."""
    exact = [i for i, (_, s) in enumerate(pool) if s.startswith(OPENING)]
    chosen = [i for i in exact if pool[i][0] == 'girl'][:girls] + [i for i in exact if pool[i][0] == 'boy'][:boys]
    left = collections.Counter(h for h, _ in pool)
    last = {pool[i][0]: i for i in exact}
    chosen += [last[h] for h in sorted(last, key=last.get) if h not in ('girl', 'boy') and left[h] >= 2][:seen]
    chosen += [i for i in exact if pool[i][0] not in ('girl', 'boy') and left[pool[i][0]] == 1 and pool[i][0] not in exclude_heroes][: n - len(chosen)]
    assert len(chosen) == n, (len(chosen), n)
    return sorted(chosen)

test_idx = set(pick(stories, 60, 6, 4, 35, set()))
test = [stories[i] for i in sorted(test_idx)]
rest = [st for i, st in enumerate(stories) if i not in test_idx]
valid_idx = set(pick(rest, 40, 4, 3, 25, {h for h, _ in test}))
valid = [rest[i] for i in sorted(valid_idx)]
train = [st for i, st in enumerate(rest) if i not in valid_idx]
with open('opening-stories.txt', 'w', encoding='utf-8', newline='\n') as f:
    f.write(f'splits: {len(train)} {len(valid)} {len(test)}\n<|endoftext|>\n')
    for h, s in train + valid + test: f.write(f'hero: {h}\n{s}\n<|endoftext|>\n')
seen = {h for h, _ in train}
print(f'{len(stories)} stories, {len(count)} heroes; train {len(train)}, validation {len(valid)}, held-out {len(test)} '
      f'(girl {sum(h == "girl" for h, _ in test)}, boy {sum(h == "boy" for h, _ in test)}, other heroes seen in training '
      f'{sum(h not in ("girl", "boy") and h in seen for h, _ in test)}, never seen {sum(h not in seen for h, _ in test)})')
