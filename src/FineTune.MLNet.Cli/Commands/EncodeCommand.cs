using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Models.Bert;
using FineTune.MLNet.Modules;
using FineTune.MLNet.Tokenization;
using static TorchSharp.torch;

namespace FineTune.MLNet.Cli.Commands;

/// <summary><c>finetune encode</c>: prints the encoder's last hidden state of one text as JSON (for parity checks).</summary>
internal static class EncodeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "minilm (bundled) or a Hugging Face BERT/DistilBERT folder.", DefaultValueFactory = _ => "minilm" };
        var text = new Option<string>("--text") { Description = "Text to encode.", Required = true };
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 512 };
        var command = new Command("encode", "Print {\"input_ids\": [...], \"last_hidden_state\": [[...], ...]} for one text.") { model, text, maxLength };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(text)!, r.GetValue(maxLength)));
        return command;
    }

    private static int Run(string modelName, string text, int maxLength)
    {
        try
        {
            using var pretrained = PretrainedEncoder.Load(modelName);
            using var encoder = new BertModel(pretrained.Config);
            var weights = pretrained.Weights.Where(kv => kv.Key.StartsWith("bert.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["bert.".Length..], kv => kv.Value);
            var report = StateDictLoader.LoadInto(encoder, weights, strict: false);
            if (report.Missing.Any(k => !k.StartsWith("pooler.", StringComparison.Ordinal)))
                throw new InvalidDataException($"'{pretrained.Source}' lacks encoder weights: {string.Join(", ", report.Missing.Take(10))}.");
            encoder.eval();
            var tokenizer = WordPieceTokenizer.FromVocabStream(new MemoryStream(pretrained.Vocab), pretrained.TokenizerOptions);
            var encoded = tokenizer.EncodeBatch([text], null, maxLength);
            using var _ = no_grad();
            var (ids, mask, types) = encoded.ToTensors();
            using var hidden = encoder.forward(ids, mask, types);            // (1, T, H)
            var rows = (int)hidden.shape[1];
            var h = (int)hidden.shape[2];
            var flat = hidden.data<float>().ToArray();
            var json = new
            {
                input_ids = encoded.InputIds,
                last_hidden_state = Enumerable.Range(0, rows).Select(t => flat.AsSpan(t * h, h).ToArray()).ToArray(),
            };
            Console.WriteLine(JsonSerializer.Serialize(json));
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }
}
