using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace FineTune.MLNet.Serving;

/// <summary>Serving step 5: the index of the largest probability (first on ties), which <c>MapValue</c> turns into the label key.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ArgMaxMapping : CustomMappingFactory<ArgMaxMapping.Input, ArgMaxMapping.Output>
{
    /// <summary>Contract name stored in the model .zip.</summary>
    public const string ContractName = "FineTune.MLNet.Serving.ArgMax";

    public override Action<Input, Output> GetMapping() => Map;

    internal static void Map(Input input, Output output)
    {
        var p = input.Score;
        if (p.Length == 0) throw new InvalidDataException("Serving pipeline: the Score vector is empty.");
        var best = 0;
        for (var i = 1; i < p.Length; i++)
            if (p[i] > p[best]) best = i;
        output.PredictedIndex = best;
    }

    public sealed class Input
    {
        /// <summary>Class probabilities (the ONNX model's <c>probabilities</c> output).</summary>
        [VectorType]
        public float[] Score { get; set; } = [];
    }

    public sealed class Output
    {
        public int PredictedIndex { get; set; }
    }
}
