using FineTune.MLNet.Generation;
using FineTune.MLNet.Losses;
using FineTune.MLNet.Metrics;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;
using static TorchSharp.torch;

namespace FineTune.MLNet.Evaluation;

/// <summary>
/// Evaluates a causal LM after supervised fine-tuning: (a) perplexity of the supervised (response) tokens of SFT
/// examples, (b) EM / token F1 / ROUGE-L of generated answers to held-out questions, prompts formatted by the
/// <see cref="SftExampleBuilder"/> exactly as in training, and (c) perplexity of plain text lines, each encoded with
/// the tokenizer's BOS and scored over all its tokens (a check for forgetting of general language).
/// </summary>
/// <remarks>
/// Forward passes run batched (right padding, masked out of the loss), under no_grad and in eval mode; the model's
/// mode is restored afterwards. Perplexity is <c>exp(Σ NLL / N)</c> over all scored tokens of the set (HF's
/// <c>exp(eval_loss)</c> weighting by token, not by example). Pass <c>disableAdapters: true</c> to
/// <see cref="Evaluate"/> for the base model's numbers from the same object (exact while the adapters are unmerged;
/// for a QLoRA model the base is its NF4-quantized weights). Checked against: log_softmax NLL of the unpadded logits.
/// </remarks>
public sealed class SftEvaluator
{
    private readonly LlamaForCausalLM _model;
    private readonly HfTokenizer _tokenizer;
    private readonly SftExampleBuilder _builder;
    private readonly SftCollator _collator;
    private readonly TextGenerator _generator;

    /// <param name="model">The model to evaluate (LoRA or plain).</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="builder">Formats prompts and examples as in training (same <see cref="SftDataOptions"/>).</param>
    /// <param name="batchSize">Sequences per forward pass. Range 1..4096.</param>
    public SftEvaluator(LlamaForCausalLM model, HfTokenizer tokenizer, SftExampleBuilder builder, int batchSize = 8)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _builder = builder ?? throw new ArgumentNullException(nameof(builder));
        if (batchSize is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be in 1..4096.");
        BatchSize = batchSize;
        _collator = SftCollator.ForTokenizer(tokenizer);
        _generator = new TextGenerator(model, tokenizer);
    }

    /// <summary>Sequences per forward pass (and prompts per generation batch).</summary>
    public int BatchSize { get; }

    /// <summary>Runs every part of <paramref name="sets"/> that is set, on the base model when <paramref name="disableAdapters"/>.</summary>
    public SftEvaluation Evaluate(SftEvaluationSets sets, GenerationOptions? generation = null, bool disableAdapters = false)
    {
        ArgumentNullException.ThrowIfNull(sets);
        using var adapters = disableAdapters ? _model.DisableAdapters() : null;
        var perplexity = sets.PerplexityPairs is { } pairs ? Perplexity(_builder.BuildFromPairs(pairs).Examples) : null;
        var answers = sets.QuestionAnswers is { } qa ? Answer(qa, generation) : null;
        var general = sets.GeneralText is { } lines ? GeneralTextPerplexity(lines) : null;
        return new SftEvaluation(perplexity, answers, general, disableAdapters);
    }

    /// <summary>Mean NLL over the supervised tokens (labels ≠ -100 after the shift) of <paramref name="examples"/>.</summary>
    /// <exception cref="InvalidDataException">No example has a supervised token.</exception>
    public PerplexityResult Perplexity(IReadOnlyList<SftExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        return Score(examples.Select(e => e.ToSequence()).ToList(), "the examples have no supervised (response) token");
    }

    /// <summary>Mean NLL over all tokens of each non-blank line, encoded with BOS and cut to <see cref="SftDataOptions.MaxLength"/>.</summary>
    /// <exception cref="InvalidDataException">No line yields a token to score.</exception>
    public PerplexityResult GeneralTextPerplexity(IReadOnlyList<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var sequences = lines.Where(l => !string.IsNullOrWhiteSpace(l)).Select(EncodeLine).ToList();
        return Score(sequences, "no general-text line has two or more tokens to score");
    }

    /// <summary>Answers each question (prompt formatted as in training) and scores the answers against the references.</summary>
    public GenerationEvaluation Answer(IReadOnlyList<QuestionAnswer> questions, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(questions);
        if (questions.Count == 0) throw new ArgumentException("There are no questions to answer.", nameof(questions));
        options ??= new GenerationOptions { MaxNewTokens = 64 };
        var predictions = new List<string>(questions.Count);
        foreach (var chunk in questions.Chunk(BatchSize))
        {
            var prompts = chunk.Select(q => (IReadOnlyList<int>)_builder.PromptIds(q.Question)).ToList();
            predictions.AddRange(_generator.GenerateFromIds(prompts, options).Select(r => r.Text.Trim()));
        }
        var scores = GenerationMetrics.Evaluate(predictions, questions.Select(q => q.Reference).ToList());
        return new GenerationEvaluation(scores, predictions);
    }

    private SftSequence EncodeLine(string line)
    {
        var ids = _tokenizer.Encode(line, addSpecialTokens: true).ToList();
        if (_tokenizer.BosId is int bos && (ids.Count == 0 || ids[0] != bos)) ids.Insert(0, bos);
        if (ids.Count > _builder.Options.MaxLength) ids.RemoveRange(_builder.Options.MaxLength, ids.Count - _builder.Options.MaxLength);
        var labels = ids.ToArray();
        labels[0] = CausalLmLoss.IgnoreIndex;   // nothing predicts the first token
        return new SftExample([.. ids], labels, Truncated: false).ToSequence();
    }

    /// <summary>Summed NLL / token count over padded batches (sorted by length to pad little).</summary>
    private PerplexityResult Score(IReadOnlyList<SftSequence> sequences, string whenEmpty)
    {
        var ordered = sequences.OrderBy(s => s.Length).ToList();
        var device = _model.parameters().First().device;
        bool wasTraining = _model.training;
        _model.eval();
        try
        {
            using var noGrad = no_grad();
            double sum = 0;
            long count = 0;
            foreach (var chunk in ordered.Chunk(BatchSize))
            {
                using var scope = NewDisposeScope();
                using var t = _collator.Collate(chunk).ToTensors(device);
                var logits = _model.Forward(t.InputIds, t.AttentionMask, t.PositionIds);    // (B, T, V)
                var (s, c) = CausalLmLoss.SumNll(logits, t.Labels);
                sum += s.to_type(ScalarType.Float64).item<double>();
                count += c.item<long>();
            }
            if (count == 0) throw new InvalidDataException($"Cannot compute a perplexity: {whenEmpty}.");
            return new PerplexityResult(sum / count, count);
        }
        finally
        {
            if (wasTraining) _model.train();
        }
    }
}
