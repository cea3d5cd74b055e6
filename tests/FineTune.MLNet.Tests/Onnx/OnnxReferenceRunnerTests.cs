using FineTune.MLNet.Export.Onnx;
using FineTune.MLNet.Formats.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace FineTune.MLNet.Tests.Onnx;

public class OnnxReferenceRunnerTests(ITestOutputHelper output)
{
    [Fact]
    public void RealModelRunsOnPaddedBatchAndPaddingDoesNotLeak()
    {
        using var runner = new OnnxReferenceRunner(EmbeddedMiniLm.Bytes);
        Assert.False(runner.UsesCuda);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], runner.InputNames);
        Assert.Equal(["last_hidden_state", "924"], runner.FloatOutputNames);

        // Batch of 2, T = 6: "hello world" right-padded with [PAD]=0, and "this is a test".
        long[] a = EmbeddedMiniLm.HelloWorld, b = EmbeddedMiniLm.ThisIsATest;
        const int t = 6;
        long[] ids = [.. a, 0, 0, .. b];
        long[] mask = [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1];
        Dictionary<string, OnnxFloatOutput> batch = runner.Run(ids, mask, tokenTypeIds: null, batchSize: 2, sequenceLength: t);

        Assert.Equal([2L, t, 384], batch["last_hidden_state"].Shape);
        Assert.Equal([2L, 384], batch["924"].Shape);
        Assert.All(batch["last_hidden_state"].Data, v => Assert.True(float.IsFinite(v)));

        // The unpadded single sequence must give the same hidden states at its 4 real positions.
        Dictionary<string, OnnxFloatOutput> single = runner.Run(a, null, null, batchSize: 1, sequenceLength: a.Length, ["last_hidden_state"]);
        Assert.Equal([1L, a.Length, 384], single["last_hidden_state"].Shape);
        float[] padded = batch["last_hidden_state"].Data, alone = single["last_hidden_state"].Data;
        double maxDiff = 0;
        for (int i = 0; i < a.Length * 384; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(padded[i] - alone[i]));
        }
        output.WriteLine($"padded vs unpadded max |diff| = {maxDiff:G3}; h[0,0,0..3] = {string.Join(", ", alone.Take(4))}");
        Assert.True(maxDiff < 1e-4, $"padding changed real positions by {maxDiff}");

        // Different sentences give different [CLS] states (the model is not returning a constant).
        double clsDiff = 0;
        for (int i = 0; i < 384; i++)
        {
            clsDiff = Math.Max(clsDiff, Math.Abs(padded[i] - padded[t * 384 + i]));
        }
        Assert.True(clsDiff > 1e-2);
    }

    [Fact]
    public void RejectsInputsOfTheWrongLength()
    {
        using var runner = new OnnxReferenceRunner(EmbeddedMiniLm.Bytes);
        var e = Assert.Throws<ArgumentException>(() => runner.Run([101, 102, 0], [1, 1], null, batchSize: 1, sequenceLength: 3));
        Assert.Equal("attentionMask", e.ParamName);
        Assert.Throws<ArgumentException>(() => runner.Run([101, 102], null, null, 1, 2, ["no_such_output"]));
    }

    [Fact]
    public void RejectsModelsWithNonTokenInputs()
    {
        byte[] matMulAdd = OnnxModelWriter.ToBytes(OnnxTestGraphs.MatMulAdd(3, 2));
        var e = Assert.Throws<ArgumentException>(() => new OnnxReferenceRunner(matMulAdd));
        Assert.Contains("input 'x'", e.Message);
    }

    [Fact]
    public void CudaRequestEitherRunsOnCudaOrFallsBackOnlyWhenAllowed()
    {
        var wantCuda = new OnnxRunnerOptions { UseCuda = true, FallBackToCpu = true };
        using var runner = new OnnxReferenceRunner(EmbeddedMiniLm.Bytes, wantCuda);
        output.WriteLine($"CUDA execution provider in use: {runner.UsesCuda}");
        OnnxFloatOutput hidden = runner.Run(EmbeddedMiniLm.HelloWorld, null, null, 1, 4)["last_hidden_state"];
        Assert.Equal([1L, 4, 384], hidden.Shape);
        if (!runner.UsesCuda)
        {
            // No usable CUDA here: without the fallback flag the runner must refuse instead of silently using CPU.
            var e = Assert.Throws<InvalidOperationException>(() => new OnnxReferenceRunner(EmbeddedMiniLm.Bytes, wantCuda with { FallBackToCpu = false }));
            Assert.Contains("FallBackToCpu", e.Message);
        }
    }

    [Fact]
    public void OptionsValidateNamesTheField()
    {
        Assert.Equal("CudaDeviceId", Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxRunnerOptions { CudaDeviceId = -1 }.Validate()).ParamName);
        Assert.Equal("IntraOpThreads", Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxRunnerOptions { IntraOpThreads = 0 }.Validate()).ParamName);
        Assert.Equal("FallBackToCpu", Assert.Throws<ArgumentException>(() => new OnnxRunnerOptions { FallBackToCpu = true }.Validate()).ParamName);
    }
}
