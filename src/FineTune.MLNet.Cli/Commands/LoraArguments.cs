using System.CommandLine;
using FineTune.MLNet.Peft;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>The adapter options shared by <c>sft</c> and <c>dpo</c> (<c>--lora-*</c>, <c>--targets</c>, <c>--qlora</c>) and the settings they make.</summary>
internal sealed class LoraArguments(string qloraDescription)
{
    public Option<int> Rank { get; } = new("--lora-rank") { DefaultValueFactory = _ => 8 };
    public Option<double?> Alpha { get; } = new("--lora-alpha") { Description = "LoRA alpha (default 2 × rank)." };
    public Option<double> Dropout { get; } = new("--lora-dropout") { Description = "Dropout on the adapters' input, in [0, 1) (default 0, as PEFT).", DefaultValueFactory = _ => 0.0 };
    public Option<string> Targets { get; } = new("--targets") { Description = "Comma-separated module names, or all-linear.", DefaultValueFactory = _ => "all-linear" };
    public Option<bool> QLora { get; } = new("--qlora") { Description = qloraDescription };

    public IEnumerable<Option> All => [Rank, Alpha, Dropout, Targets, QLora];

    /// <summary>Option names of the <see cref="LoraSettings"/> fields, for validation messages.</summary>
    public static readonly IReadOnlyDictionary<string, string> OptionOfField = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Rank"] = "--lora-rank", ["Alpha"] = "--lora-alpha", ["Dropout"] = "--lora-dropout", ["TargetModules"] = "--targets",
    };

    /// <summary>The settings the parsed options describe (alpha defaults to 2 × rank).</summary>
    public LoraSettings Settings(ParseResult r)
    {
        var rank = r.GetValue(Rank);
        return new LoraSettings
        {
            Rank = rank,
            Alpha = r.GetValue(Alpha) ?? 2.0 * rank,
            Dropout = r.GetValue(Dropout),
            TargetModules = r.GetValue(Targets)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            QuantizeBase = r.GetValue(QLora),
        };
    }
}
