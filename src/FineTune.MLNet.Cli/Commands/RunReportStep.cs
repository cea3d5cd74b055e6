using FineTune.MLNet.Reporting;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>The last step of <c>finetune classify|sft|dpo</c>: <c>OUTPUT/report.html</c> and <c>OUTPUT/report.md</c> from the run folder's files.</summary>
internal static class RunReportStep
{
    /// <summary>
    /// Writes the report of <paramref name="runFolder"/> and prints where. The model and metrics are saved by then, so a
    /// report that cannot be drawn (no fonts or SkiaSharp natives on this machine) is a warning naming the cause and the
    /// way to retry, not a failed run.
    /// </summary>
    public static void Write(string runFolder)
    {
        try
        {
            var files = RunReport.Write(runFolder);
            Console.WriteLine($"report: {files.Html} ({files.Images.Count} plots), {files.Markdown}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"warning: the run report was not written ({e.GetType().Name}: {e.Message}). "
                                    + $"The trained model is saved; run scripts/setup.sh on a fresh machine (fonts, SkiaSharp), then 'finetune report {runFolder}'.");
        }
    }
}
