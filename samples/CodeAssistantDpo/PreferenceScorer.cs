using FineTune.MLNet.Losses;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Dpo;
using FineTune.MLNet.Training.Tasks.Sft;
using static TorchSharp.torch;

/// <summary>
/// DPO metrics of a LoRA model on held-out preference triples, computed as the DPO trainer's validation pass does:
/// summed completion log-probs of chosen and rejected (one concatenated forward) under the policy (adapters on) and
/// the reference (the same model with adapters off), then the sigmoid DPO loss and implicit rewards β·(π − π_ref).
/// Lets the sample score the SFT model before DPO on exactly the footing the DPO run's validation uses after it.
/// </summary>
internal static class PreferenceScorer
{
    public static DpoMetrics Score(LlamaForCausalLM model, HfTokenizer tokenizer, SftDataOptions data,
        IReadOnlyList<(string Prompt, string Chosen, string Rejected)> triples, double beta, int batchSize = 8)
    {
        var builder = new DpoExampleBuilder(new SftExampleBuilder(tokenizer, data));
        var pairs = triples.Select(t => builder.FromTriple(t.Prompt, t.Chosen, t.Rejected)).ToList();
        var collator = SftCollator.ForTokenizer(tokenizer);
        var device = model.parameters().First().device;
        var wasTraining = model.training;
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double loss = 0, chosen = 0, rejected = 0, correct = 0, logpChosen = 0, logpRejected = 0;
        for (var start = 0; start < pairs.Count; start += batchSize)
        {
            var batch = pairs.Skip(start).Take(batchSize).ToList();
            var (pc, pr) = CompletionLogProbs.OfPairs(model, batch, collator, device);          // (B), (B) policy
            Tensor rc, rr;
            using (model.DisableAdapters()) (rc, rr) = CompletionLogProbs.OfPairs(model, batch, collator, device);   // (B), (B) reference
            var result = DpoLoss.Sigmoid(pc, pr, rc, rr, beta);
            loss += result.Losses.sum().item<float>();
            chosen += result.ChosenRewards.sum().item<float>();
            rejected += result.RejectedRewards.sum().item<float>();
            correct += result.ChosenRewards.gt(result.RejectedRewards).sum().item<long>();
            logpChosen += pc.sum().item<float>();
            logpRejected += pr.sum().item<float>();
        }
        model.train(wasTraining);
        double n = pairs.Count;
        return new DpoMetrics(loss / n, chosen / n, rejected / n, correct / n, (chosen - rejected) / n, logpChosen / n, logpRejected / n, pairs.Count);
    }
}
