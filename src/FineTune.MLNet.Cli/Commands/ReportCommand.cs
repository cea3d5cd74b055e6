using System.CommandLine;
using FineTune.MLNet.Reporting;

namespace FineTune.MLNet.Cli.Commands;

/// <summary><c>finetune report RUN_DIR</c>: (re)renders a run folder's <c>report.html</c> and <c>report.md</c>.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("RUN_DIR") { Description = "A run folder: the --output of classify, sft or dpo, or TrainerOptions.RunFolder of an API run." };
        var command = new Command("report", "Write RUN_DIR/report.html (self-contained, plots embedded) and RUN_DIR/report.md from the run folder's config.json, metrics.jsonl, metrics.json and preflight.json.")
        {
            folder,
        };
        command.SetAction(r => Run(r.GetValue(folder)!));
        return command;
    }

    private static int Run(DirectoryInfo folder)
    {
        try
        {
            var files = RunReport.Write(folder.FullName);
            Console.WriteLine($"report: {files.Html} ({files.Images.Count} plots), {files.Markdown}");
            return 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }
}
