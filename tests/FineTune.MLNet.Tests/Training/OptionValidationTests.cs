using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Training;
using Xunit;

namespace FineTune.MLNet.Tests.Training;

/// <summary>Every option record refuses bad values with an exception naming the field.</summary>
public sealed class OptionValidationTests
{
    public static TheoryData<string, LoraSettings> BadLora => new()
    {
        { "Rank", new LoraSettings { Rank = 0 } },
        { "Rank", new LoraSettings { Rank = 5000 } },
        { "Alpha", new LoraSettings { Alpha = 0 } },
        { "Alpha", new LoraSettings { Alpha = double.PositiveInfinity } },
        { "Dropout", new LoraSettings { Dropout = 1.0 } },
        { "Dropout", new LoraSettings { Dropout = -0.1 } },
        { "TargetModules", new LoraSettings { TargetModules = [] } },
        { "TargetModules", new LoraSettings { TargetModules = ["q_proj", " "] } },
    };

    [Theory]
    [MemberData(nameof(BadLora))]
    public void LoraSettingsNameTheBadField(string field, LoraSettings settings) =>
        Assert.Equal(field, Assert.ThrowsAny<ArgumentException>(settings.Validate).ParamName);

    public static TheoryData<string, TrainerOptions> BadTrainer => new()
    {
        { "GradientAccumulationSteps", new TrainerOptions { GradientAccumulationSteps = 0 } },
        { "MaxGradNorm", new TrainerOptions { MaxGradNorm = -1 } },
        { "WeightDecay", new TrainerOptions { WeightDecay = double.NaN } },
        { "EarlyStoppingPatience", new TrainerOptions { EarlyStoppingPatience = 0 } },
        { "CheckpointEverySteps", new TrainerOptions { CheckpointEverySteps = 0 } },
        { "CheckpointsToKeep", new TrainerOptions { CheckpointsToKeep = 0 } },
        { "StopAfterSteps", new TrainerOptions { StopAfterSteps = 0 } },
        { "MaxConsecutiveNonFiniteSteps", new TrainerOptions { MaxConsecutiveNonFiniteSteps = 0 } },
        { "Device", new TrainerOptions { Device = "tpu" } },
    };

    [Theory]
    [MemberData(nameof(BadTrainer))]
    public void TrainerOptionsNameTheBadField(string field, TrainerOptions options) =>
        Assert.Equal(field, Assert.ThrowsAny<ArgumentException>(options.Validate).ParamName);

    [Fact]
    public void CudaDeviceWithoutCudaIsExplained()
    {
        if (TorchSharp.torch.cuda.is_available()) return;   // on a GPU machine "cuda" is valid
        var e = Assert.ThrowsAny<ArgumentException>(new TrainerOptions { Device = "cuda" }.Validate);
        Assert.Contains("CUDA is not available", e.Message);
    }

    [Fact]
    public void LoraFineTuneOptionsNameTheBadField()
    {
        Assert.Equal("Model", Assert.ThrowsAny<ArgumentException>(new LoraFineTuneOptions().Validate).ParamName);
        var ok = new LoraFineTuneOptions { Model = "/some/model" };
        ok.Validate();
        Assert.Equal("PromptColumnName", Assert.ThrowsAny<ArgumentException>((ok with { PromptColumnName = " " }).Validate).ParamName);
        Assert.Equal("InferenceBatchSize", Assert.ThrowsAny<ArgumentException>((ok with { InferenceBatchSize = 0 }).Validate).ParamName);
        Assert.Equal("Rank", Assert.ThrowsAny<ArgumentException>((ok with { Lora = ok.Lora with { Rank = 0 } }).Validate).ParamName);
    }

    [Fact]
    public void ClassifierOptionsNameTheBadField()
    {
        var ok = new TextClassificationFineTuneOptions();
        Assert.Equal("TextColumnName", Assert.ThrowsAny<ArgumentException>((ok with { TextColumnName = "" }).Validate).ParamName);
        Assert.Equal("SecondTextColumnName", Assert.ThrowsAny<ArgumentException>((ok with { SecondTextColumnName = " " }).Validate).ParamName);
        Assert.Equal("InferenceBatchSize", Assert.ThrowsAny<ArgumentException>((ok with { InferenceBatchSize = 0 }).Validate).ParamName);
        Assert.Equal("Model", Assert.ThrowsAny<ArgumentException>((ok with { Model = "" }).Validate).ParamName);
    }
}
