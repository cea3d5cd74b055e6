using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Generation;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune generate</c>: answers one prompt with a checkpoint (and optionally a PEFT adapter). The prompt is formatted
/// as <c>finetune sft</c> trains (chat template with the generation prompt, or prompt + newline without a template, BOS
/// first) unless <c>--raw</c>, which encodes the text as it is. <c>--json</c> prints the prompt ids, the new ids and the text as JSON.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new CausalLmArguments();
        var prompt = new Option<string>("--prompt") { Description = "The prompt (a user message, or plain text with --raw).", Required = true };
        var maxNewTokens = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 128 };
        var greedy = new Option<bool>("--greedy") { Description = "Take the most likely token each step (the default unless a sampling option is given)." };
        var temperature = new Option<double?>("--temperature") { Description = "Sample with this temperature (> 0)." };
        var topK = new Option<int?>("--top-k") { Description = "Sample among the k most likely tokens (0 = off)." };
        var topP = new Option<double?>("--top-p") { Description = "Sample from the smallest set of tokens reaching probability p, in (0, 1]." };
        var seed = new Option<long?>("--seed") { Description = "Seed of the sampler (reproducible sampling)." };
        var raw = new Option<bool>("--raw") { Description = "Encode the prompt as it is, without the chat template." };
        var json = new Option<bool>("--json") { Description = "Print {\"prompt_ids\", \"ids\" (the new tokens), \"text\", \"finish_reason\"} as JSON instead of the text." };
        var onnx = new Option<DirectoryInfo?>("--onnx") { Description = "Serve an ONNX Runtime GenAI folder (from `export --format genai`) instead of --model; greedy only." };
        var command = new Command("generate", "Print the model's answer to one prompt.") { prompt, maxNewTokens, greedy, temperature, topK, topP, seed, raw, json, onnx };
        model.Model.Required = false;
        foreach (var option in model.All) command.Options.Add(option);
        command.SetAction(r => Run(new Args(
            r.GetValue(model.Model), r.GetValue(onnx), r.GetValue(model.Adapter), r.GetValue(model.Device)!, r.GetValue(prompt)!, r.GetValue(maxNewTokens),
            r.GetValue(greedy), r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP), r.GetValue(seed), r.GetValue(raw), r.GetValue(json))));
        return command;
    }

    private sealed record Args(DirectoryInfo? Model, DirectoryInfo? Onnx, DirectoryInfo? Adapter, string Device, string Prompt, int MaxNewTokens,
        bool Greedy, double? Temperature, int? TopK, double? TopP, long? Seed, bool Raw, bool Json);

    private static int Run(Args a)
    {
        try
        {
            var options = Decoding(a);
            if ((a.Model is null) == (a.Onnx is null)) throw new ArgumentException("--model or --onnx: give exactly one of them.");
            var folder = a.Onnx?.FullName ?? CausalLmArguments.Folder(a.Model!);
            var tokenizer = HfTokenizer.FromFolder(folder);
            IReadOnlyList<int> ids = a.Raw
                ? tokenizer.Encode(a.Prompt, addSpecialTokens: true)
                : new SftExampleBuilder(tokenizer, new SftDataOptions { MaxLength = 1 << 20 }).PromptIds(a.Prompt);
            IReadOnlyList<int> newIds;
            string text, finish;
            if (a.Onnx is not null)
            {
                if (a.Adapter is not null) throw new ArgumentException("--adapter: an exported GenAI folder has its adapter merged already.");
                if (options.DoSample) throw new ArgumentException("--onnx: only greedy decoding (no --temperature, --top-k, --top-p).");
                (newIds, finish) = GenAiGeneration.Greedy(a.Onnx.FullName, ids, options.MaxNewTokens);
                text = tokenizer.Decode(newIds, skipSpecialTokens: true);
            }
            else
            {
                using var model = CausalLmArguments.Load(a.Model!, a.Adapter, a.Device);
                var result = new TextGenerator(model, tokenizer).GenerateFromIds([ids], options)[0];
                (newIds, text, finish) = (result.TokenIds, result.Text, result.FinishReason.ToString());
            }
            text = a.Raw ? text : text.Trim();
            Console.WriteLine(!a.Json ? text : JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["prompt_ids"] = ids,
                ["ids"] = newIds,
                ["text"] = text,
                ["finish_reason"] = finish,
            }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    private static GenerationOptions Decoding(Args a)
    {
        bool sample = a.Temperature is not null || a.TopK is not null || a.TopP is not null;
        if (a.Greedy && sample) throw new ArgumentException("--greedy cannot be combined with --temperature, --top-k or --top-p.");
        var options = new GenerationOptions
        {
            MaxNewTokens = a.MaxNewTokens,
            DoSample = sample,
            Temperature = a.Temperature ?? 1.0,
            TopK = a.TopK ?? 0,
            TopP = a.TopP ?? 1.0,
            Seed = a.Seed,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            var option = e.ParamName switch
            {
                nameof(GenerationOptions.MaxNewTokens) => "--max-new-tokens",
                nameof(GenerationOptions.Temperature) => "--temperature",
                nameof(GenerationOptions.TopK) => "--top-k",
                nameof(GenerationOptions.TopP) => "--top-p",
                _ => e.ParamName,
            };
            throw new ArgumentException($"{option}: {CliErrors.Describe(e)}", e);
        }
        return options;
    }
}
