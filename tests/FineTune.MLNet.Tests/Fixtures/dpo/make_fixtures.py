"""Regenerates golden.json for the DPO tests from the numpy reference (/work/shared/reference).

  /usr/bin/python3 make_fixtures.py /work/shared/reference

Uses the tiny llama fixture (../llama/llama) and its PEFT adapter (../llama/lora). Cases:
  losses:      TRL sigmoid DPO loss + metrics (reference.dpo_sigmoid) from given summed log-probs, incl. cDPO smoothing
  logps:       summed completion log-probs (prompt ids, completion ids) for llama and llama+lora
  dpo_model:   full DPO numbers with policy = llama+lora, reference = llama (adapters off), as TRL does for PEFT
"""
import json, os, sys

REF = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference"
HERE = os.path.dirname(os.path.abspath(__file__))
LLAMA = os.path.join(HERE, "..", "llama")
sys.path.insert(0, REF)
import reference as R  # noqa: E402

losses = []
for logps, beta, ls in [
    ({"policy_chosen": [-1.0], "policy_rejected": [-2.0], "ref_chosen": [-1.5], "ref_rejected": [-1.5]}, 0.1, 0.0),
    ({"policy_chosen": [-3.2, -10.5, -0.7], "policy_rejected": [-4.1, -9.0, -2.2],
      "ref_chosen": [-3.0, -11.0, -1.0], "ref_rejected": [-3.9, -9.5, -2.0]}, 0.1, 0.0),
    ({"policy_chosen": [-3.2, -10.5, -0.7], "policy_rejected": [-4.1, -9.0, -2.2],
      "ref_chosen": [-3.0, -11.0, -1.0], "ref_rejected": [-3.9, -9.5, -2.0]}, 0.5, 0.1),
    ({"policy_chosen": [-20.0, -5.0], "policy_rejected": [-1.0, -30.0],
      "ref_chosen": [-5.0, -5.0], "ref_rejected": [-5.0, -5.0]}, 2.0, 0.0),
]:
    out = R.dpo_sigmoid(logps["policy_chosen"], logps["policy_rejected"], logps["ref_chosen"], logps["ref_rejected"], beta, ls)
    losses.append({"inputs": logps, "beta": beta, "label_smoothing": ls, "expected": out})

pairs = [([1, 5, 9], [17, 33, 2]), ([1, 100], [3, 64, 65, 66, 2]), ([7], [8])]
logps = {}
for name, adapter in (("llama", None), ("llama+lora", "lora")):
    cfg, W = R.load_model(os.path.join(LLAMA, "llama"), os.path.join(LLAMA, adapter) if adapter else None)
    logps[name] = [{"prompt": p, "completion": c, "logp": R.completion_logps(cfg, W, p, c)[0]} for p, c in pairs]

triples = [([1, 5, 9], [17, 33, 2], [40, 2]), ([1, 100], [3, 64, 2], [90, 91, 92, 93, 2])]
cfg, Wp = R.load_model(os.path.join(LLAMA, "llama"), os.path.join(LLAMA, "lora"))
_, Wr = R.load_model(os.path.join(LLAMA, "llama"))
pc = [R.completion_logps(cfg, Wp, p, c)[0] for p, c, _ in triples]
pr = [R.completion_logps(cfg, Wp, p, r)[0] for p, _, r in triples]
rc = [R.completion_logps(cfg, Wr, p, c)[0] for p, c, _ in triples]
rr = [R.completion_logps(cfg, Wr, p, r)[0] for p, _, r in triples]
dpo_model = {"triples": [{"prompt": p, "chosen": c, "rejected": r} for p, c, r in triples], "beta": 0.1,
             "expected": dict(R.dpo_sigmoid(pc, pr, rc, rr, 0.1), policy_chosen=pc, policy_rejected=pr, ref_chosen=rc, ref_rejected=rr)}

with open(os.path.join(HERE, "golden.json"), "w") as f:
    json.dump({"losses": losses, "logps": logps, "dpo_model": dpo_model}, f, indent=1)
