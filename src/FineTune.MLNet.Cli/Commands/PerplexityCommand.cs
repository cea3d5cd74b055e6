using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Evaluation;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune perplexity --model DIR|NAME [--adapter DIR] --text-file FILE [--separator S]</c>: mean NLL per token of
/// the documents of a text file (split at the separator, trimmed, blank ones dropped), each encoded with BOS and cut to
/// the context (<c>max_position_embeddings</c> or <c>--max-length</c>), as <see cref="SftEvaluator.GeneralTextPerplexity"/>
/// scores general text. Prints JSON: <c>mean_nll</c>, <c>perplexity</c>, <c>tokens</c>, <c>documents</c>.
/// </summary>
internal static class PerplexityCommand
{
    public const string DefaultSeparator = "<|endoftext|>";

    public static Command Create()
    {
        var model = new CausalLmArguments();
        var textFile = new Option<FileInfo>("--text-file") { Description = "UTF-8 text file of documents.", Required = true };
        var separator = new Option<string>("--separator") { Description = "Text between documents (default <|endoftext|>, as in TinyStories' .txt release).", DefaultValueFactory = _ => DefaultSeparator };
        var maxDocuments = new Option<int?>("--max-documents") { Description = "Score only the first N documents (> 0)." };
        var maxLength = new Option<int?>("--max-length") { Description = "Tokens per document, BOS included (default: the model's max_position_embeddings)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Documents per forward pass (1..4096).", DefaultValueFactory = _ => 8 };
        var command = new Command("perplexity", "Print {\"mean_nll\", \"perplexity\", \"tokens\", \"documents\"} of a model on the documents of a text file.")
            { textFile, separator, maxDocuments, maxLength, batchSize };
        foreach (var option in model.All) command.Options.Add(option);
        command.SetAction(r => Run(new Args(r.GetValue(model.Model)!, r.GetValue(model.Adapter), r.GetValue(model.Device)!, r.GetValue(textFile)!,
            r.GetValue(separator)!, r.GetValue(maxDocuments), r.GetValue(maxLength), r.GetValue(batchSize))));
        return command;
    }

    private sealed record Args(DirectoryInfo Model, DirectoryInfo? Adapter, string Device, FileInfo TextFile, string Separator,
        int? MaxDocuments, int? MaxLength, int BatchSize);

    private static int Run(Args a)
    {
        try
        {
            if (a.Separator.Length == 0) throw new ArgumentException("--separator: must not be empty (default <|endoftext|>).");
            if (a.MaxDocuments is <= 0) throw new ArgumentException($"--max-documents: must be > 0, got {a.MaxDocuments}.");
            if (a.MaxLength is < 2) throw new ArgumentException($"--max-length: must be >= 2 (BOS and one token to score), got {a.MaxLength}.");
            if (a.BatchSize is < 1 or > 4096) throw new ArgumentException($"--batch-size: must be in 1..4096, got {a.BatchSize}.");
            if (!a.TextFile.Exists) throw new FileNotFoundException($"--text-file: file '{a.TextFile.FullName}' does not exist.", a.TextFile.FullName);
            var documents = Documents(File.ReadAllText(a.TextFile.FullName), a.Separator, a.MaxDocuments);
            if (documents.Count == 0) throw new InvalidDataException($"--text-file: '{a.TextFile.FullName}' holds no non-blank document.");
            using var model = CausalLmArguments.Load(a.Model, a.Adapter, a.Device);
            var tokenizer = HfTokenizer.FromFolder(CausalLmArguments.Folder(a.Model));
            var data = new SftDataOptions { MaxLength = a.MaxLength ?? model.Config.MaxPositionEmbeddings };
            var result = new SftEvaluator(model, tokenizer, new SftExampleBuilder(tokenizer, data), a.BatchSize).GeneralTextPerplexity(documents);
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["mean_nll"] = result.MeanNll,
                ["perplexity"] = result.Perplexity,
                ["tokens"] = result.TokenCount,
                ["documents"] = documents.Count,
            }));
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    /// <summary>The trimmed non-blank documents between separators, at most <paramref name="max"/>.</summary>
    internal static List<string> Documents(string text, string separator, int? max)
    {
        var documents = text.Split(separator).Select(d => d.Trim()).Where(d => d.Length > 0);
        return [.. max is int m ? documents.Take(m) : documents];
    }
}
