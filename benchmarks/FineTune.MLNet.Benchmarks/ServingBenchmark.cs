using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FineTune.MLNet.Export.GenAi;
using FineTune.MLNet.Export.Gguf;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Models.Llama;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Tokenization;
using FineTune.MLNet.Tokenization.HuggingFace;
using static TorchSharp.torch;

namespace FineTune.MLNet.Benchmarks;

/// <summary>
/// <c>--scenario serving</c> (issue 9 §4): serving engines side by side in one process, alternating in rounds (the engine
/// order rotates every round), medians over rounds. Classifier: the bundled MiniLM-L6 (3 labels) on the first 32 texts of
/// reviews.train.csv, pre-tokenized (max 128, padded to the longest in the batch), rows/s at batch 1 (32 calls) and 32
/// (one call), for TorchSharp eager, ONNX Runtime float32 and int8 (<c>OnnxDynamicQuantizer</c>). Decoder: the bundled
/// tinystories-260k, one prompt, the same number of new greedy tokens, tokens/s per request (own KV cache / context /
/// generator each, prefill included) for TorchSharp, ONNX Runtime GenAI (exported folder) and llama.cpp (exported f32
/// GGUF). Every engine gets the same thread count (torch's, or <see cref="ThreadsVariable"/>). Prints a Markdown table before the RESULT line.
/// </summary>
internal static class ServingBenchmark
{
    private const string Prompt = "Once upon a time";
    private const int ClassifierRows = 32;

    /// <summary>Threads every engine gets (torch's default when unset).</summary>
    public const string ThreadsVariable = "FINETUNE_BENCH_SERVING_THREADS";

    public static ScenarioResult Run(BenchmarkSettings settings)
    {
        var rounds = settings.Quick ? 3 : 7;
        if (Environment.GetEnvironmentVariable(ThreadsVariable) is { Length: > 0 } text)
        {
            if (!int.TryParse(text, CultureInfo.InvariantCulture, out var n) || n < 1)
                throw new ArgumentException($"{ThreadsVariable} must be a whole number of at least 1, got '{text}'.");
            set_num_threads(n);
        }
        var threads = get_num_threads();
        var values = new Dictionary<string, double> { ["rounds"] = rounds };
        var lines = new List<string>();
        Classifier(values, lines, rounds, threads);
        Decoder(values, lines, rounds, threads, settings.Quick ? 32 : 64);
        Console.WriteLine(string.Join('\n', lines));
        return new ScenarioResult("serving", values);
    }

    private static void Classifier(Dictionary<string, double> values, List<string> lines, int rounds, int threads)
    {
        using var pretrained = PretrainedEncoder.LoadMiniLm();
        using var model = MiniLm.Create(pretrained, lora: null);
        model.eval();
        var tokenizer = MiniLm.Tokenizer(pretrained);
        var texts = ReviewCorpus.ReadTexts(ReviewCorpus.Locate()).Take(ClassifierRows).ToArray();
        var singles = texts.Select(t => tokenizer.EncodeBatch([t], null, 128)).ToArray();
        var batch = tokenizer.EncodeBatch(texts, null, 128);
        var (fp32, int8) = OnnxRuntimeClassifierEngine.Export(model);
        IClassifierEngine[] engines =
        [
            new TorchSharpClassifierEngine(model),
            new OnnxRuntimeClassifierEngine("ONNX Runtime fp32", fp32, threads),
            new OnnxRuntimeClassifierEngine("ONNX Runtime int8", int8, threads),
        ];
        try
        {
            var reference = engines[0].Probabilities(batch);
            var b1 = engines.Select(_ => new List<double>()).ToArray();
            var b32 = engines.Select(_ => new List<double>()).ToArray();
            foreach (var e in engines) { e.Probabilities(batch); foreach (var s in singles) e.Probabilities(s); }   // warm-up
            for (var r = 0; r < rounds; r++)
            {
                foreach (var i in Rotation(engines.Length, r))
                {
                    var clock = Stopwatch.StartNew();
                    foreach (var s in singles) engines[i].Probabilities(s);
                    b1[i].Add(singles.Length / clock.Elapsed.TotalSeconds);
                    clock.Restart();
                    engines[i].Probabilities(batch);
                    engines[i].Probabilities(batch);
                    b32[i].Add(2 * batch.BatchSize / clock.Elapsed.TotalSeconds);
                }
                Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] classifier round {r + 1}/{rounds}: batch 1 " +
                    string.Join(", ", engines.Select((e, i) => $"{e.Name} {b1[i][^1]:F1}")) + "; batch 32 " + string.Join(", ", engines.Select((e, i) => $"{b32[i][^1]:F1}")));
            }

            var realTokens = Enumerable.Range(0, batch.BatchSize).Average(batch.RowLength);
            lines.Add($"Classifier: bundled all-MiniLM-L6-v2 + 3-label head, first {ClassifierRows} texts of reviews.train.csv (mean {realTokens:F1} real tokens, batch 32 padded to {batch.SequenceLength}), {threads} thread{(threads == 1 ? "" : "s")} each, median of {rounds} alternating rounds.");
            lines.Add("");
            lines.Add("| Engine | Rows/s, batch 1 | Rows/s, batch 32 | Model size (MB) | Max \\|Δp\\| vs TorchSharp | Same argmax |");
            lines.Add("|---|---:|---:|---:|---:|---:|");
            var sizes = new double[] { model.parameters().Sum(p => p.numel()) * 4 / 1e6, fp32.Length / 1e6, int8.Length / 1e6 };
            for (var i = 0; i < engines.Length; i++)
            {
                var p = engines[i].Probabilities(batch);
                var maxDiff = p.Zip(reference).Max(v => Math.Abs(v.First - v.Second));
                var agree = Enumerable.Range(0, batch.BatchSize).Count(row => ArgMax(p, row, MiniLm.Labels) == ArgMax(reference, row, MiniLm.Labels));
                var key = i switch { 0 => "torch", 1 => "ort_fp32", _ => "ort_int8" };
                values[$"classifier_{key}_b1_rows_per_s"] = Median(b1[i]);
                values[$"classifier_{key}_b32_rows_per_s"] = Median(b32[i]);
                values[$"classifier_{key}_max_prob_diff"] = maxDiff;
                lines.Add($"| {engines[i].Name} | {Median(b1[i]):F1} | {Median(b32[i]):F1} | {sizes[i].ToString("F1", CultureInfo.InvariantCulture)}{(i == 0 ? " (float32 parameters)" : "")} | {maxDiff:E1} | {agree}/{batch.BatchSize} |");
            }
            lines.Add("");
        }
        finally
        {
            foreach (var e in engines) e.Dispose();
        }
    }

    private static void Decoder(Dictionary<string, double> values, List<string> lines, int rounds, int threads, int newTokens)
    {
        var folder = PretrainedDecoders.ResolveFolder(PretrainedDecoders.TinyStories260K);
        using var model = LlamaForCausalLM.FromPretrained(folder);
        model.eval();
        var tokenizer = HfTokenizer.FromFolder(folder);
        var prompt = tokenizer.Encode(Prompt).ToArray();
        var dir = Directory.CreateTempSubdirectory("finetune-serving-");
        try
        {
            var genai = Path.Combine(dir.FullName, "genai");
            GenAiFolderExporter.Export(model, folder, genai);
            SetGenAiThreads(Path.Combine(genai, "genai_config.json"), threads);
            var gguf = LlamaGgufExporter.Export(model, folder, Path.Combine(dir.FullName, "model-f32.gguf"), new GgufExportOptions { Type = GgufExportType.F32 });
            IDecoderEngine[] engines = [new TorchSharpDecoderEngine(model, tokenizer), new GenAiDecoderEngine(genai), new LlamaCppDecoderEngine(gguf.Path, threads)];
            try
            {
                var ids = engines.Select(e => e.Greedy(prompt, newTokens)).ToArray();   // warm-up, and the ids compared
                var rates = engines.Select(_ => new List<double>()).ToArray();
                const int requests = 3;
                for (var r = 0; r < rounds; r++)
                {
                    foreach (var i in Rotation(engines.Length, r))
                    {
                        var clock = Stopwatch.StartNew();
                        var produced = 0;
                        for (var q = 0; q < requests; q++) produced += engines[i].Greedy(prompt, newTokens).Length;
                        rates[i].Add(produced / clock.Elapsed.TotalSeconds);
                    }
                    Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] decoder round {r + 1}/{rounds}: " + string.Join(", ", engines.Select((e, i) => $"{e.Name} {rates[i][^1]:F0} tok/s")));
                }
                lines.Add($"Decoder: bundled tinystories-260k (5 layers, hidden 64, vocab 512), prompt \"{Prompt}\" ({prompt.Length} ids), {newTokens} new greedy tokens per request, prefill included, {requests} requests per engine per round, median of {rounds} alternating rounds, {threads} thread{(threads == 1 ? "" : "s")} each. GenAI: `export --format genai` folder (model.onnx {new FileInfo(Path.Combine(genai, "model.onnx")).Length / 1e6:F2} MB); llama.cpp: `export --format gguf --type f32` ({gguf.Bytes / 1e6:F2} MB), flash attention off, F32 K/V cache.");
                lines.Add("");
                lines.Add("| Engine | Tokens/s | ms/token | Greedy ids equal TorchSharp's |");
                lines.Add("|---|---:|---:|---|");
                for (var i = 0; i < engines.Length; i++)
                {
                    var key = i switch { 0 => "torch", 1 => "genai", _ => "llamacpp" };
                    var median = Median(rates[i]);
                    var same = CommonPrefix(ids[0], ids[i]);
                    values[$"decoder_{key}_tokens_per_s"] = median;
                    values[$"decoder_{key}_ids_equal"] = same;
                    lines.Add($"| {engines[i].Name} | {median:F0} | {1000 / median:F2} | {(i == 0 ? "(reference)" : $"{same}/{ids[0].Length}{(ids[i].Length < ids[0].Length ? $" (stopped at EOS after {ids[i].Length})" : "")}")} |");
                }
                lines.Add("");
            }
            finally
            {
                foreach (var e in engines) e.Dispose();
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Gives ONNX Runtime GenAI the same intra-op thread count as the other engines.</summary>
    private static void SetGenAiThreads(string configPath, int threads)
    {
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["model"]!["decoder"]!["session_options"]!["intra_op_num_threads"] = threads;
        File.WriteAllText(configPath, config.ToJsonString());
    }

    /// <summary>Engine order of round <paramref name="round"/>: 0,1,2 then 1,2,0 then 2,0,1 ...</summary>
    private static IEnumerable<int> Rotation(int count, int round) => Enumerable.Range(0, count).Select(i => (i + round) % count);

    private static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static int ArgMax(float[] p, int row, int classes)
    {
        var best = 0;
        for (var c = 1; c < classes; c++) if (p[row * classes + c] > p[row * classes + best]) best = c;
        return best;
    }

    private static int CommonPrefix(int[] a, int[] b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n]) n++;
        return n;
    }
}
