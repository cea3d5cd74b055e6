using FineTune.MLNet.Formats.SafeTensors;

namespace FineTune.MLNet.Cli.Inspection;

/// <summary>One safetensors file: tensor count, parameters, bytes and dtypes from its header, and its metadata keys.</summary>
internal static class SafeTensorsInspector
{
    public static InspectionReport Inspect(string path)
    {
        var tensors = SafeTensorsFile.ReadHeader(path);
        var metadata = SafeTensorsFile.ReadMetadata(path);
        return new InspectionReport("safetensors file", path)
            .Add("tensors", (long)tensors.Count)
            .Add("parameters", TensorSummary.Parameters(tensors))
            .Add("weight_bytes", TensorSummary.Bytes(tensors))
            .Add("dtypes", TensorSummary.ByDType(tensors))
            .Add("metadata", metadata.Count == 0 ? null : metadata.Select(kv => $"{kv.Key}={kv.Value}").ToList());
    }
}
