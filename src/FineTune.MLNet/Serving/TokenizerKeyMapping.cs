using Microsoft.ML.Transforms;

namespace FineTune.MLNet.Serving;

/// <summary>
/// Serving step 1: adds the constant <see cref="ServingColumns.TokenizerKey"/> column that ML.NET's <c>MapValue</c> turns
/// into the tokenizer data (step 2). Pure code, so <c>Model.Load</c> rebuilds it from its contract name.
/// </summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class TokenizerKeyMapping : CustomMappingFactory<TokenizerKeyMapping.Input, TokenizerKeyMapping.Output>
{
    /// <summary>Contract name stored in the model .zip.</summary>
    public const string ContractName = "FineTune.MLNet.Serving.TokenizerKey";

    public override Action<Input, Output> GetMapping() => Map;

    internal static void Map(Input input, Output output) => output.TokenizerKey = ServingTokenizerData.Key;

    /// <summary>The text column (read only so the step has an input).</summary>
    public sealed class Input
    {
        public string Text { get; set; } = "";
    }

    public sealed class Output
    {
        public string TokenizerKey { get; set; } = "";
    }
}
