using System.CommandLine;
using System.Text.Json;
using FineTune.MLNet.Serving;
using Microsoft.ML;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune predict --model m.zip --text T [--text T2 ...]</c>: loads an ML.NET serving .zip (written by
/// <c>export --format mlnet</c>) with <c>mlContext.Model.Load</c> and prints one JSON line per text:
/// <c>{"text":..., "label":..., "probabilities":[...]}</c>.
/// </summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The serving .zip from `finetune export --format mlnet`.", Required = true };
        var text = new Option<string[]>("--text") { Description = "A text to classify (repeatable).", Required = true, AllowMultipleArgumentsPerToken = false };
        var gpu = new Option<int?>("--gpu-device") { Description = "CUDA device id (MLContext.GpuDeviceId), falling back to CPU; CPU when absent." };
        var command = new Command("predict", "Classify texts with an ML.NET serving .zip (mlContext.Model.Load + a prediction engine).") { model, text, gpu };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(text)!, r.GetValue(gpu)));
        return command;
    }

    private static int Run(FileInfo model, string[] texts, int? gpuDevice)
    {
        try
        {
            var mlContext = new MLContext { GpuDeviceId = gpuDevice, FallbackToCpu = true };
            var pipeline = ClassifierServingPipeline.Load(mlContext, model.FullName);
            using var engine = pipeline.CreatePredictionEngine();
            foreach (var t in texts)
            {
                var p = engine.Predict(new ServingInput { Text = t });
                Console.WriteLine(JsonSerializer.Serialize(new { text = t, label = p.PredictedLabel, probabilities = p.Score }));
            }
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }
}
