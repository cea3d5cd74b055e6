using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tokenization.HuggingFace;
using static TorchSharp.torch;

namespace FineTune.MLNet.Generation;

/// <summary>
/// Autoregressive text generation with a <see cref="LlamaForCausalLM"/> and its <see cref="HfTokenizer"/>, as HF
/// <c>generate()</c>: prompts are left-padded into one batch with position ids <c>cumsum(mask) − 1</c>; finished
/// rows keep receiving the pad id until all rows stop (EOS, stop string or length). Runs under no_grad in eval mode
/// (a model in training mode is switched to eval for the call and back).
/// Thread-safe for a model in eval mode, as fitted transformers leave it: each call has its own KV cache, sampling
/// generator and buffers (tests/FineTune.MLNet.Tests/Concurrency).
/// </summary>
public sealed class TextGenerator
{
    private readonly LlamaForCausalLM _model;
    private readonly HfTokenizer _tokenizer;

    public TextGenerator(LlamaForCausalLM model, HfTokenizer tokenizer)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
    }

    /// <summary>Generates a continuation of one prompt.</summary>
    public GenerationResult Generate(string prompt, GenerationOptions? options = null) => Generate([prompt], options)[0];

    /// <summary>Generates continuations of several prompts in one left-padded batch.</summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<string> prompts, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        options ??= new GenerationOptions();
        return GenerateFromIds([.. prompts.Select(p => _tokenizer.Encode(p, options.AddSpecialTokens))], options);
    }

    /// <summary>Generates continuations of already tokenized prompts.</summary>
    public IReadOnlyList<GenerationResult> GenerateFromIds(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        options ??= new GenerationOptions();
        options.Validate();
        if (prompts.Count == 0) return [];
        if (prompts.Any(p => p is null || p.Count == 0)) throw new ArgumentException("Every prompt needs at least one token.", nameof(prompts));
        var eos = (options.EosTokenIds ?? [.. _model.Config.EosTokenIds, .. _tokenizer.EosId is int e ? new[] { e } : []]).ToHashSet();
        int pad = _model.Config.PadTokenId ?? _tokenizer.PadId ?? (eos.Count > 0 ? eos.Min() : 0);

        // Fitted models are in eval mode already: switch only when needed, since flipping the mode on every call races
        // with other threads generating with the same model.
        bool wasTraining = _model.training;
        if (wasTraining) _model.eval();
        try
        {
            using var noGrad = no_grad();
            return Run(prompts, options, eos, pad);
        }
        finally
        {
            if (wasTraining) _model.train();
        }
    }

    private List<GenerationResult> Run(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions options, HashSet<int> eos, int pad)
    {
        int batch = prompts.Count, promptLength = prompts.Max(p => p.Count);
        var device = _model.parameters().First().device;
        // Whole sequences on the host: ids, mask and positions per row (left padded).
        var ids = prompts.Select(p => Enumerable.Repeat((long)pad, promptLength - p.Count).Concat(p.Select(i => (long)i)).ToList()).ToArray();
        var mask = prompts.Select(p => Enumerable.Repeat(0L, promptLength - p.Count).Concat(Enumerable.Repeat(1L, p.Count)).ToList()).ToArray();
        var nextPosition = prompts.Select(p => (long)p.Count).ToArray();
        var generated = Enumerable.Range(0, batch).Select(_ => new List<int>()).ToArray();
        var reasons = new FinishReason?[batch];
        var texts = new string?[batch];
        using var generator = options.DoSample ? new Generator((ulong)(options.Seed ?? DateTime.UtcNow.Ticks), device) : null;
        using var cache = options.UseCache ? _model.CreateCache() : null;

        for (int step = 0; step < options.MaxNewTokens && reasons.Any(r => r is null); step++)
        {
            using var scope = NewDisposeScope();
            var fullMask = Matrix(mask, device);                                                  // (B, S)
            Tensor logits;
            if (cache is null || step == 0)
            {
                var input = Matrix(ids, device);                                                  // (B, S)
                logits = _model.Forward(input, fullMask, CausalMask.PositionIdsFromMask(fullMask), cache);
            }
            else
            {
                var input = tensor(ids.Select(r => r[^1]).ToArray(), [batch, 1], ScalarType.Int64, device);            // (B, 1)
                var positions = tensor(nextPosition.Select(p => p - 1).ToArray(), [batch, 1], ScalarType.Int64, device);   // (B, 1)
                logits = _model.Forward(input, fullMask, positions, cache);
            }
            var last = logits.select(1, logits.shape[1] - 1);                                      // (B, V)
            var next = TokenSampler.Next(last, options, generator).cpu().data<long>().ToArray();
            for (int b = 0; b < batch; b++)
            {
                long token = reasons[b] is null ? next[b] : pad;
                ids[b].Add(token);
                mask[b].Add(1);
                nextPosition[b]++;
                if (reasons[b] is not null) continue;
                generated[b].Add((int)token);
                if (eos.Contains((int)token))
                {
                    reasons[b] = FinishReason.Eos;
                }
                else if (options.StopStrings.Count > 0 && StopText(generated[b], options.StopStrings) is string cut)
                {
                    reasons[b] = FinishReason.StopString;
                    texts[b] = cut;
                }
                else if (generated[b].Count == options.MaxNewTokens)
                {
                    reasons[b] = FinishReason.Length;
                }
            }
        }
        return [.. Enumerable.Range(0, batch).Select(b => new GenerationResult(
            generated[b], texts[b] ?? Decode(generated[b]), reasons[b] ?? FinishReason.Length))];
    }

    /// <summary>The text before the earliest stop string, or null when none occurs.</summary>
    private string? StopText(List<int> tokens, IReadOnlyList<string> stops)
    {
        var text = Decode(tokens);
        int cut = -1;
        foreach (var stop in stops)
        {
            int i = text.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        return cut < 0 ? null : text[..cut];
    }

    /// <summary>
    /// Decodes without special tokens, skipping ids beyond the tokenizer's vocabulary (models often pad the embedding
    /// table past it; HF's tokenizers skip unknown ids the same way).
    /// </summary>
    private string Decode(List<int> tokens) =>
        _tokenizer.Decode(tokens.Where(t => t >= 0 && t < _tokenizer.VocabSize), skipSpecialTokens: true);

    private static Tensor Matrix(List<long>[] rows, Device device) =>
        tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Count], ScalarType.Int64, device);
}
