using FineTune.MLNet.Formats.SafeTensors;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>Parameter count, bytes and dtypes of safetensors tensors, from their headers alone (no tensor data is read).</summary>
internal static class TensorSummary
{
    public static long Parameters(IReadOnlyDictionary<string, SafeTensorInfo> tensors) =>
        tensors.Values.Sum(t => t.Shape.Aggregate(1L, (a, d) => checked(a * d)));

    public static long Bytes(IReadOnlyDictionary<string, SafeTensorInfo> tensors) => tensors.Values.Sum(t => t.ByteLength);

    /// <summary>One row per dtype: tensors and parameters stored in it, largest first.</summary>
    public static List<InspectionReport.Section> ByDType(IReadOnlyDictionary<string, SafeTensorInfo> tensors) =>
        tensors.Values.GroupBy(t => t.DType).OrderByDescending(g => g.Sum(t => t.ByteLength)).Select(g => new InspectionReport.Section()
            .Add("name", g.Key)
            .Add("tensors", (long)g.Count())
            .Add("parameters", g.Sum(t => t.Shape.Aggregate(1L, (a, d) => checked(a * d))))).ToList();
}
