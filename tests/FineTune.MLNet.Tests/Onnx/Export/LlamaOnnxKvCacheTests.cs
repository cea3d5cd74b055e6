using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats.HuggingFace;
using FineTune.MLNet.Formats.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using static TorchSharp.torch;
using FineTune.MLNet.Tests.Llama;

namespace FineTune.MLNet.Tests.Onnx.Export;

/// <summary>
/// The KV-cache export (<see cref="LlamaOnnxExportOptions.WithKvCache"/>) run by ONNX Runtime: greedy decoding with
/// the cache (prefill with an empty past, then one token per call feeding <c>present</c> back as <c>past</c>) against
/// the no-cache graph re-reading the whole sequence each step, the prefill against the TorchSharp forward, and a
/// left-padded batch against each prompt decoded alone.
/// </summary>
public sealed class LlamaOnnxKvCacheTests
{
    private const double Tolerance = 1e-4;
    private const int NewTokens = 5;
    private static readonly long[] Prompt = [1, 5, 9, 17, 33, 65, 100];
    private static readonly long[] ShortPrompt = [1, 127, 3];

    /// <summary>One greedy run: per step the last position's logits of each row (B · V), the chosen tokens (B) per step, and the prefill logits (B, T0, V).</summary>
    private sealed record Decoded(List<float[]> StepLogits, List<long[]> Tokens, float[] PrefillLogits, long[] LastPresentShape);

    /// <summary>HF position ids: <c>cumsum(mask) − 1</c>, 1 at padding.</summary>
    private static long[] Positions(long[] maskRow)
    {
        long count = 0;
        return [.. maskRow.Select(m => m == 0 ? 1L : count++)];
    }

    private static long[] ArgMaxRows(ReadOnlySpan<float> logits, int rows, int vocab, int rowLength, int position)
    {
        var tokens = new long[rows];
        for (var b = 0; b < rows; b++)
        {
            var row = logits.Slice((b * rowLength + position) * vocab, vocab);
            int best = 0;
            for (var j = 1; j < vocab; j++) if (row[j] > row[best]) best = j;
            tokens[b] = best;
        }
        return tokens;
    }

    private static float[] LastPositionLogits(ReadOnlySpan<float> logits, int rows, int vocab, int rowLength)
    {
        var last = new float[rows * vocab];
        for (var b = 0; b < rows; b++) logits.Slice((b * rowLength + rowLength - 1) * vocab, vocab).CopyTo(last.AsSpan(b * vocab));
        return last;
    }

    /// <summary>Left-pads <paramref name="prompts"/> to one length: ids and mask, row-major.</summary>
    private static (long[] Ids, long[] Mask, int Length) LeftPad(long[][] prompts)
    {
        int t = prompts.Max(p => p.Length);
        var ids = prompts.SelectMany(p => Enumerable.Repeat(0L, t - p.Length).Concat(p)).ToArray();
        var mask = prompts.SelectMany(p => Enumerable.Repeat(0L, t - p.Length).Concat(p.Select(_ => 1L))).ToArray();
        return (ids, mask, t);
    }

    private static long[] RowPositions(long[] mask, int rows, int length) =>
        [.. Enumerable.Range(0, rows).SelectMany(b => Positions(mask[(b * length)..((b + 1) * length)]))];

    /// <summary>Greedy decoding with the no-cache graph: the whole sequence every step.</summary>
    private static Decoded DecodeWithoutCache(byte[] onnx, long[][] prompts, int vocab)
    {
        using var session = new InferenceSession(onnx);
        using var runOptions = new RunOptions();
        var (ids, mask, length) = LeftPad(prompts);
        int rows = prompts.Length;
        var steps = new List<float[]>();
        var tokens = new List<long[]>();
        float[] prefill = [];
        for (var step = 0; step < NewTokens; step++)
        {
            long[] dims = [rows, length];
            using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, dims);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, dims);
            using var positionsValue = OrtValue.CreateTensorValueFromMemory(RowPositions(mask, rows, length), dims);
            var inputs = new Dictionary<string, OrtValue>
            {
                [LlamaOnnxExporter.InputIdsName] = idsValue,
                [LlamaOnnxExporter.AttentionMaskName] = maskValue,
                [LlamaOnnxExporter.PositionIdsName] = positionsValue,
            };
            using var results = session.Run(runOptions, inputs, [LlamaOnnxExporter.LogitsName]);
            var logits = results[0].GetTensorDataAsSpan<float>();   // (B, T, V)
            if (step == 0) prefill = logits.ToArray();
            steps.Add(LastPositionLogits(logits, rows, vocab, length));
            var next = ArgMaxRows(logits, rows, vocab, length, length - 1);
            tokens.Add(next);
            ids = Append(ids, rows, length, next);
            mask = Append(mask, rows, length, [.. next.Select(_ => 1L)]);
            length++;
        }
        return new Decoded(steps, tokens, prefill, []);
    }

    /// <summary>Greedy decoding with the cache graph: prefill with empty past tensors, then one token per call.</summary>
    private static Decoded DecodeWithCache(byte[] onnx, LlamaConfig config, long[][] prompts)
    {
        using var session = new InferenceSession(onnx);
        using var runOptions = new RunOptions();
        var (ids, mask, length) = LeftPad(prompts);
        int rows = prompts.Length, vocab = config.VocabSize, layers = config.NumHiddenLayers;
        long[] pastShape = [rows, config.KeyValueHeads, 0, config.EffectiveHeadDim];
        var empty = Enumerable.Range(0, 2 * layers)
            .Select(_ => OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, pastShape)).ToList();
        string[] outputNames = [LlamaOnnxExporter.LogitsName, .. Enumerable.Range(0, layers)
            .SelectMany(i => new[] { LlamaOnnxExporter.PresentName(i, key: true), LlamaOnnxExporter.PresentName(i, key: false) })];
        IDisposableReadOnlyCollection<OrtValue>? previous = null;
        var positions = RowPositions(mask, rows, length);
        var steps = new List<float[]>();
        var tokens = new List<long[]>();
        float[] prefill = [];
        long[] lastShape = [];
        try
        {
            for (var step = 0; step < NewTokens; step++)
            {
                int current = ids.Length / rows;   // T: the prompt at step 0, then 1
                using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [rows, current]);
                using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [rows, mask.Length / rows]);
                using var positionsValue = OrtValue.CreateTensorValueFromMemory(positions, [rows, current]);
                var inputs = new Dictionary<string, OrtValue>
                {
                    [LlamaOnnxExporter.InputIdsName] = idsValue,
                    [LlamaOnnxExporter.AttentionMaskName] = maskValue,
                    [LlamaOnnxExporter.PositionIdsName] = positionsValue,
                };
                for (var i = 0; i < layers; i++)
                {
                    inputs[LlamaOnnxExporter.PastName(i, key: true)] = previous is null ? empty[2 * i] : previous[1 + 2 * i];
                    inputs[LlamaOnnxExporter.PastName(i, key: false)] = previous is null ? empty[2 * i + 1] : previous[2 + 2 * i];
                }
                var results = session.Run(runOptions, inputs, outputNames);
                previous?.Dispose();
                previous = results;

                var logits = results[0].GetTensorDataAsSpan<float>();   // (B, T, V)
                if (step == 0) prefill = logits.ToArray();
                steps.Add(LastPositionLogits(logits, rows, vocab, current));
                var next = ArgMaxRows(logits, rows, vocab, current, current - 1);
                tokens.Add(next);
                lastShape = results[1].GetTensorTypeAndShape().Shape;
                ids = next;
                mask = Append(mask, rows, mask.Length / rows, [.. next.Select(_ => 1L)]);
                positions = [.. Enumerable.Range(0, rows).Select(b => positions[(b + 1) * current - 1] + 1)];
            }
        }
        finally
        {
            previous?.Dispose();
            empty.ForEach(v => v.Dispose());
        }
        return new Decoded(steps, tokens, prefill, lastShape);
    }

    /// <summary>Appends one column to a row-major (rows, length) array.</summary>
    private static long[] Append(long[] values, int rows, int length, long[] column) =>
        [.. Enumerable.Range(0, rows).SelectMany(b => values[(b * length)..((b + 1) * length)].Append(column[b]))];

    private static double MaxAbsDiff(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        Assert.Equal(a.Count, b.Count);
        double max = 0;
        for (var i = 0; i < a.Count; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void CachedGreedyDecodingMatchesFullSequenceDecodingAndTorchSharp(string fixture)
    {
        using var model = LlamaFixtures.Load(fixture);
        var config = model.Config;
        var plain = DecodeWithoutCache(LlamaOnnxExporter.ExportToBytes(model), [Prompt], config.VocabSize);
        var cached = DecodeWithCache(LlamaOnnxExporter.ExportToBytes(model, new LlamaOnnxExportOptions { WithKvCache = true }), config, [Prompt]);

        for (var step = 0; step < NewTokens; step++)
        {
            var diff = MaxAbsDiff(plain.StepLogits[step], cached.StepLogits[step]);
            Assert.True(diff <= Tolerance, $"{fixture} step {step}: max |no cache - cache| logits = {diff:E3}");
            Assert.Equal(plain.Tokens[step], cached.Tokens[step]);
        }
        Assert.Equal([1, config.KeyValueHeads, Prompt.Length + NewTokens - 1, config.EffectiveHeadDim], cached.LastPresentShape);

        float[] expected;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            long[] dims = [1, Prompt.Length];
            var logits = model.Forward(tensor(Prompt, dims), ones(dims, ScalarType.Int64), tensor(Positions([.. Prompt.Select(_ => 1L)]), dims));   // (1, T, V)
            expected = logits.contiguous().data<float>().ToArray();
        }
        Assert.True(expected.Max(Math.Abs) > 0.1, "logits too small for the bound to mean anything");
        var prefillDiff = MaxAbsDiff(cached.PrefillLogits, expected);
        Assert.True(prefillDiff <= Tolerance, $"{fixture} prefill: max |torch - onnxruntime (cache)| logits = {prefillDiff:E3}");
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void LeftPaddedCachedBatchDecodesAsEachPromptAlone(string fixture)
    {
        using var model = LlamaFixtures.Load(fixture);
        var onnx = LlamaOnnxExporter.ExportToBytes(model, new LlamaOnnxExportOptions { WithKvCache = true });
        var batch = DecodeWithCache(onnx, model.Config, [Prompt, ShortPrompt]);
        long[][] prompts = [Prompt, ShortPrompt];
        int vocab = model.Config.VocabSize;
        for (var row = 0; row < prompts.Length; row++)
        {
            var alone = DecodeWithCache(onnx, model.Config, [prompts[row]]);
            for (var step = 0; step < NewTokens; step++)
            {
                Assert.Equal(alone.Tokens[step][0], batch.Tokens[step][row]);
                var diff = MaxAbsDiff(alone.StepLogits[step], batch.StepLogits[step][(row * vocab)..((row + 1) * vocab)]);
                Assert.True(diff <= Tolerance, $"{fixture} row {row} step {step}: max |alone - batched| logits = {diff:E3}");
            }
        }
    }

    [Fact]
    public void CacheGraphDeclaresOptimumStyleInputsAndOutputs()
    {
        using var model = LlamaFixtures.Load("llama");
        var graph = OnnxModelReader.Read(LlamaOnnxExporter.ExportToBytes(model, new LlamaOnnxExportOptions { WithKvCache = true })).Graph;
        OnnxDim batch = OnnxDim.Symbolic("batch"), kvHeads = OnnxDim.Fixed(2), headDim = OnnxDim.Fixed(8);
        Assert.Equal(["input_ids", "attention_mask", "position_ids",
            "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"],
            graph.Inputs.Select(i => i.Name));
        Assert.Equal(["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"], graph.Outputs.Select(o => o.Name));
        Assert.Equal([batch, OnnxDim.Symbolic("past_sequence + sequence")], graph.Inputs[1].Shape!);
        Assert.All(graph.Inputs.Skip(3), i => Assert.Equal([batch, kvHeads, OnnxDim.Symbolic("past_sequence"), headDim], i.Shape!));
        Assert.All(graph.Outputs.Skip(1), o => Assert.Equal([batch, kvHeads, OnnxDim.Symbolic("past_sequence + sequence"), headDim], o.Shape!));

        var plain = OnnxModelReader.Read(LlamaOnnxExporter.ExportToBytes(model)).Graph;
        Assert.Equal(["input_ids", "attention_mask", "position_ids"], plain.Inputs.Select(i => i.Name));
        Assert.Equal(["logits"], plain.Outputs.Select(o => o.Name));
    }
}
