using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;

namespace FineTune.MLNet.Cli.Commands;

/// <summary><c>finetune logits</c>: prints the float32 logits of every position of one id sequence as JSON (for parity checks).</summary>
internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = new CausalLmArguments();
        var ids = new Option<string>("--ids") { Description = "Comma-separated token ids, e.g. 1,5,9.", Required = true };
        var command = new Command("logits", "Print {\"logits\": [[...], ...]} (T rows of V float32 logits) for one token-id sequence.") { ids };
        foreach (var option in model.All) command.Options.Add(option);
        command.SetAction(r => Run(r.GetValue(model.Model)!, r.GetValue(model.Adapter), r.GetValue(model.Device)!, r.GetValue(ids)!));
        return command;
    }

    private static int Run(DirectoryInfo modelDir, DirectoryInfo? adapterDir, string device, string idList)
    {
        try
        {
            var ids = ParseIds(idList);
            using var model = CausalLmArguments.Load(modelDir, adapterDir, device);
            int vocab = model.Config.VocabSize;
            if (ids.Where(i => i >= vocab).ToList() is { Count: > 0 } outside)
                throw new ArgumentException($"--ids: id {outside[0]} is outside the model's vocabulary (0..{vocab - 1}).");
            using var _ = no_grad();
            using var input = tensor(ids, [1, ids.Length], ScalarType.Int64).to(model.parameters().First().device);  // (1, T)
            using var logits = model.Forward(input).cpu();                                                         // (1, T, V)
            var flat = logits.data<float>().ToArray();
            var rows = Enumerable.Range(0, ids.Length).Select(t => flat.AsSpan(t * vocab, vocab).ToArray()).ToArray();
            Console.WriteLine(JsonSerializer.Serialize(new { logits = rows }));
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    private static long[] ParseIds(string list)
    {
        var parts = list.Split(',', StringSplitOptions.TrimEntries);
        var ids = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new ArgumentException($"--ids: '{parts[i]}' (item {i + 1}) is not a non-negative integer token id; expected e.g. --ids 1,5,9.");
        }
        return ids;
    }
}
