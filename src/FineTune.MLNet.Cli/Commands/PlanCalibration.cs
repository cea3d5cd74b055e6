using FineTune.MLNet.Data;
using FineTune.MLNet.Estimators;
using FineTune.MLNet.Peft;
using FineTune.MLNet.Planning;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Tasks.Sft;
using Microsoft.ML;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// The calibration of <c>finetune plan</c>: the real estimator of the task (as classify/sft/dpo build it) fitted on the
/// longest training rows for a few optimizer steps (<see cref="TrainerOptions.StopAfterSteps"/>), timed and measured by
/// <see cref="Calibration"/>.
/// </summary>
internal sealed record PlanCalibration(PlanData Data, string Model, string Device, int Seed)
{
    /// <summary>Runs <paramref name="steps"/> steps of <paramref name="method"/> at <paramref name="shape"/>'s batch size.</summary>
    public CalibrationResult Run(TrainingMethod method, RunShape shape, int steps)
    {
        var rows = Data.LongestRows(steps * shape.BatchSize);
        int stepCount = (rows.RowCount + shape.BatchSize - 1) / shape.BatchSize;
        return Calibration.Measure(progress =>
        {
            var ml = new MLContext(seed: Seed);
            switch (Data.Task)
            {
                case "classify":
                    Classify(ml, rows, method, shape, stepCount, progress);
                    break;
                case "sft":
                    using (new LoraFineTuneEstimator(ml, Sft(method, shape, stepCount, progress)).Fit(rows.ToDataView(ml, Data.Columns))) { }
                    break;
                default:
                    using (new DpoFineTuneEstimator(ml, Dpo(method, shape, stepCount, progress)).Fit(rows.ToDataView(ml, Data.Columns))) { }
                    break;
            }
        });
    }

    private void Classify(MLContext ml, DelimitedTable rows, TrainingMethod method, RunShape shape, int steps, IProgress<TrainingProgress> progress)
    {
        string text = Data.Columns[0], label = Data.Columns[1];
        var keys = ml.Transforms.Conversion.MapValueToKey(label).Fit(Data.Train.ToDataView(ml, text, label));   // every label, whichever rows are timed
        var options = new TextClassificationFineTuneOptions
        {
            TextColumnName = text, LabelColumnName = label, Model = Model, Epochs = 1, BatchSize = shape.BatchSize, MaxLength = Data.MaxLength,
            Seed = Seed, Device = Device, Lora = method.Rank is { } r ? new LoraSettings { Rank = r, Alpha = 2 * r } : null,
            StopAfterSteps = steps, Progress = progress,
        };
        _ = ml.MulticlassClassification.Trainers.FineTuneTextClassifier(options).Fit(keys.Transform(rows.ToDataView(ml, text, label)));
    }

    private LoraSettings Lora(TrainingMethod method, RunShape shape) => new()
    {
        Rank = method.Rank!.Value, Alpha = 2.0 * method.Rank!.Value, TargetModules = shape.Targets, QuantizeBase = method.Quantized,
    };

    private LoraFineTuneOptions Sft(TrainingMethod method, RunShape shape, int steps, IProgress<TrainingProgress> progress) => new()
    {
        Model = Model, PromptColumnName = Data.Columns[0], ResponseColumnName = Data.Columns[1], Lora = Lora(method, shape), Epochs = 1,
        BatchSize = shape.BatchSize, Data = new SftDataOptions { MaxLength = Data.MaxLength }, GradientCheckpointing = shape.GradientCheckpointing,
        Seed = Seed, Device = Device, StopAfterSteps = steps, Progress = progress,
    };

    private DpoFineTuneOptions Dpo(TrainingMethod method, RunShape shape, int steps, IProgress<TrainingProgress> progress) => new()
    {
        Model = Model, PromptColumnName = Data.Columns[0], ChosenColumnName = Data.Columns[1], RejectedColumnName = Data.Columns[2], Lora = Lora(method, shape),
        Epochs = 1, BatchSize = shape.BatchSize, Data = new SftDataOptions { MaxLength = Data.MaxLength }, GradientCheckpointing = shape.GradientCheckpointing,
        Seed = Seed, Device = Device, StopAfterSteps = steps, Progress = progress,
    };
}
