using System.Text.Json;
using FineTune.MLNet.Formats.SafeTensors;
using Xunit;
using static TorchSharp.torch;

namespace FineTune.MLNet.Tests.Checkpoints;

/// <summary>Files written by the independent numpy reference (Fixtures/checkpoints/make_fixtures.py), read by us.</summary>
public class SafeTensorsFixtureTests
{
    private static readonly Dictionary<string, ScalarType> TorchTypes = new()
    {
        ["F32"] = ScalarType.Float32, ["F64"] = ScalarType.Float64, ["F16"] = ScalarType.Float16,
        ["BF16"] = ScalarType.BFloat16, ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32,
        ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8, ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    [Fact]
    public void ReadsEveryDTypeWrittenByThePythonReference()
    {
        var path = CheckpointTestFiles.Fixture("checkpoints", "dtypes.safetensors");
        using var expected = JsonDocument.Parse(File.ReadAllText(CheckpointTestFiles.Fixture("checkpoints", "dtypes_expected.json")));
        var loaded = SafeTensorsFile.Load(path);
        var tensors = expected.RootElement.GetProperty("tensors");
        Assert.Equal(tensors.EnumerateObject().Select(p => p.Name).Order(), loaded.Keys.Order());
        foreach (var entry in tensors.EnumerateObject())
        {
            var tensor = loaded[entry.Name];
            var dtype = entry.Value.GetProperty("dtype").GetString()!;
            Assert.Equal(TorchTypes[dtype], tensor.dtype);
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), tensor.shape);
            var values = entry.Value.GetProperty("values").EnumerateArray().ToList();
            var flat = tensor.reshape(-1);
            Assert.Equal(values.Count, (int)flat.numel());
            switch (dtype)
            {
                case "I64":
                    Assert.Equal(values.Select(v => long.Parse(v.GetString()!)), flat.data<long>().ToArray());
                    break;
                case "BOOL":
                    Assert.Equal(values.Select(v => v.GetBoolean()), flat.data<bool>().ToArray());
                    break;
                case "I32" or "I16" or "I8" or "U8":
                    Assert.Equal(values.Select(v => v.GetInt64()), flat.to(ScalarType.Int64).data<long>().ToArray());
                    break;
                default:
                    // F16/BF16/F32 values are exactly representable in float64, so compare exactly.
                    Assert.Equal(values.Select(v => v.GetDouble()), flat.to(ScalarType.Float64).data<double>().ToArray());
                    break;
            }
            if (dtype == "BF16")
            {
                // bf16 is the top half of a float32: the upcast values must carry exactly the stored bits.
                var bits = entry.Value.GetProperty("bits").EnumerateArray().Select(b => b.GetInt32()).ToArray();
                var upcast = flat.to(ScalarType.Float32).data<float>().ToArray();
                Assert.Equal(bits, upcast.Select(v => (int)((uint)BitConverter.SingleToInt32Bits(v) >> 16)));
            }
        }
        var metadata = SafeTensorsFile.ReadMetadata(path);
        Assert.Equal("fixture", metadata["note"]);
    }

    [Fact]
    public void ReadHeaderReportsDTypesShapesAndOffsetsWithoutLoading()
    {
        var header = SafeTensorsFile.ReadHeader(CheckpointTestFiles.Fixture("checkpoints", "dtypes.safetensors"));
        var bf16 = header["bf16"];
        Assert.Equal("BF16", bf16.DType);
        Assert.Equal(ScalarType.BFloat16, bf16.ScalarType);
        Assert.Equal([2L, 2L, 3L], bf16.Shape);
        Assert.Equal(24, bf16.ByteLength);
        Assert.Empty(header["scalar_f32"].Shape);
        Assert.Equal(0, header["empty_f32"].ByteLength);
    }

    [Fact]
    public void TinyBertWeightsMatchTheReferenceReader()
    {
        var tensors = SafeTensorsFile.Load(CheckpointTestFiles.Fixture("tiny-bert", "model.safetensors"));
        AssertMatchesSummary(tensors, CheckpointTestFiles.Fixture("tiny-bert", "model_expected.json"));
    }

    /// <summary>Compares dtype, shape, float64 sums and first values with a summary dumped by the reference reader.</summary>
    internal static void AssertMatchesSummary(IReadOnlyDictionary<string, Tensor> tensors, string summaryPath)
    {
        using var summary = JsonDocument.Parse(File.ReadAllText(summaryPath));
        Assert.Equal(summary.RootElement.EnumerateObject().Select(p => p.Name).Order(), tensors.Keys.Order());
        foreach (var entry in summary.RootElement.EnumerateObject())
        {
            var tensor = tensors[entry.Name];
            Assert.Equal(TorchTypes[entry.Value.GetProperty("dtype").GetString()!], tensor.dtype);
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), tensor.shape);
            var wide = tensor.to(ScalarType.Float64).reshape(-1);
            var sum = entry.Value.GetProperty("sum").GetDouble();
            var absSum = entry.Value.GetProperty("abs_sum").GetDouble();
            Assert.True(Math.Abs(wide.sum().item<double>() - sum) <= 1e-9 * Math.Max(1, absSum), $"sum of '{entry.Name}'");
            Assert.True(Math.Abs(wide.abs().sum().item<double>() - absSum) <= 1e-9 * Math.Max(1, absSum), $"abs sum of '{entry.Name}'");
            var first = entry.Value.GetProperty("first").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(first, wide[..first.Length].data<double>().ToArray());
        }
    }
}
