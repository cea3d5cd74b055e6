using FineTune.MLNet.Formats.Onnx;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>
/// An ONNX file through the library's <see cref="OnnxModel"/> types only (this file is the one adapter to them):
/// opsets, producer, inputs and outputs with their shapes, node count and operator histogram, initializer bytes.
/// </summary>
internal static class OnnxInspector
{
    public static InspectionReport Inspect(string path)
    {
        var model = OnnxModelReader.Read(path);
        var graph = model.Graph;
        var initializerBytes = graph.Initializers.Sum(t => (long)t.RawData.Length);
        return new InspectionReport("ONNX model", path)
            .Add("ir_version", model.IrVersion)
            .Add("opset", model.DefaultOpset)
            .Add("opset_imports", model.OpsetImports.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}").ToList())
            .Add("producer", string.IsNullOrEmpty(model.ProducerName) ? null : $"{model.ProducerName} {model.ProducerVersion}".Trim())
            .Add("graph", string.IsNullOrEmpty(graph.Name) ? null : graph.Name)
            .Add("inputs", graph.Inputs.Select(Value).ToList())
            .Add("outputs", graph.Outputs.Select(Value).ToList())
            .Add("nodes", (long)graph.Nodes.Count)
            .Add("operators", graph.Nodes.GroupBy(n => n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Take(12).Select(g => $"{g.Key} {g.Count()}").ToList())
            .Add("initializers", (long)graph.Initializers.Count)
            .Add("initializer_parameters", graph.Initializers.Sum(t => t.Dims.Aggregate(1L, (a, d) => checked(a * d))))
            .Add("initializer_bytes", initializerBytes)
            // The reader resolves external data beside the file; when the weights outweigh the file, some are outside it.
            .Add("external_data", initializerBytes > new FileInfo(path).Length);
    }

    private static InspectionReport.Section Value(OnnxValueInfo v) => new InspectionReport.Section()
        .Add("name", v.Name)
        .Add("type", v.ElemType.ToString().ToLowerInvariant())
        .Add("shape", v.Shape is null ? "?" : "[" + string.Join(", ", v.Shape.Select(d => d.ToString())) + "]");
}
