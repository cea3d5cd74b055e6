using System.CommandLine;
using FineTune.MLNet.Data;
using FineTune.MLNet.Preflight;
using FineTune.MLNet.Tokenization.HuggingFace;
using FineTune.MLNet.Training.Tasks.Sft;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// The preflight of <c>finetune classify|sft|dpo</c>, read from the same parsed flags as the command: run before
/// training (<see cref="BeforeTraining"/>) and alone by <c>finetune check</c> (<see cref="Check"/>). Both write
/// <c>OUTPUT/preflight.json</c>.
/// </summary>
internal static class PreflightGate
{
    /// <summary>
    /// Runs the preflight, then <paramref name="train"/>: errors stop the run (exit 2, no output folder) before any model
    /// is loaded; warnings go to standard error before training and to OUTPUT/preflight.json once the command has
    /// succeeded (a command that refuses its own flags still leaves no output folder); then the run report is written.
    /// </summary>
    public static int Guard(ParseResult r, string task, Func<int> train)
    {
        var report = BeforeTraining(r, task, out var refused);
        if (refused is { } code) return code;
        var result = train();
        if (result == 0 && report is not null) report.WriteTo(r.GetValue<DirectoryInfo>("--output")!.FullName);
        if (result == 0) RunReportStep.Write(r.GetValue<DirectoryInfo>("--output")!.FullName);   // report.html + report.md, preflight.json included
        return result;
    }

    /// <summary>The preflight report, or null when the flags or files are bad (the command then reports that itself);
    /// <paramref name="refused"/> is the exit code when the preflight found errors.</summary>
    private static PreflightReport? BeforeTraining(ParseResult r, string task, out int? refused)
    {
        refused = null;
        try
        {
            var report = Build(r, task);
            MemoryFitWarning.Add(report, r, task);
            if (!report.HasErrors)
            {
                foreach (var w in report.Warnings) Console.Error.WriteLine($"warning: {w}");
                return report;
            }
            foreach (var e in report.Errors) Console.Error.WriteLine($"error: {e}");   // a refused run writes no output folder
            Console.Error.WriteLine($"error: preflight found {report.Errors.Count} error(s); nothing was trained (run 'finetune check {task} ...' to see the full report).");
            refused = CliErrors.BadInput;
            return null;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return null;   // a missing file, column or bad flag: the command's own checks report it in its words
        }
    }

    /// <summary><c>finetune check TASK</c>: prints the report; exit 0 with warnings only, 2 with errors.</summary>
    public static int Check(ParseResult r, string task)
    {
        try
        {
            var report = Build(r, task);
            MemoryFitWarning.Add(report, r, task);
            var path = report.WriteTo(r.GetValue<DirectoryInfo>("--output")!.FullName);
            Console.WriteLine(PreflightText.Format(report));
            Console.WriteLine($"report: {path}");
            return report.HasErrors ? CliErrors.BadInput : 0;
        }
        catch (Exception e) when (CliErrors.IsBadInput(e))
        {
            return CliErrors.Report(e);
        }
    }

    private static PreflightReport Build(ParseResult r, string task) => task switch
    {
        "classify" => Classify(r),
        "sft" or "dpo" => CausalLm(r, task),
        _ => throw new ArgumentException($"No preflight for task '{task}'.", nameof(task)),
    };

    private static PreflightReport Classify(ParseResult r)
    {
        var input = new ClassificationPreflightInput(
            Read(r.GetValue<FileInfo>("--train")!, "--train"), ReadOptional(r, "--valid"), ReadOptional(r, "--test"),
            r.GetValue<string>("--text-column")!, r.GetValue<string>("--label-column")!, MaxLength(r));
        return ClassificationPreflight.Run(input, ClassifierTokenizers.For(r.GetValue<string>("--model")!));
    }

    private static PreflightReport CausalLm(ParseResult r, string task)
    {
        var folder = CausalLmArguments.Folder(r.GetValue<DirectoryInfo>("--model")!);
        var tokenizer = HfTokenizer.FromFolder(folder);
        var builder = new SftExampleBuilder(tokenizer, new SftDataOptions { MaxLength = MaxLength(r) });
        var tables = new List<CausalLmPreflightTable> { new(Read(r.GetValue<FileInfo>("--train")!, "--train"), "train") };
        if (ReadOptional(r, "--valid") is { } valid) tables.Add(new(valid, "valid"));
        string Column(string option) => r.GetValue<string>(option)!;
        foreach (var t in tables)
        {
            foreach (var option in task == "sft" ? new[] { "--prompt-column", "--response-column" } : ["--prompt-column", "--chosen-column", "--rejected-column"])
            {
                try
                {
                    _ = t.Table.ColumnIndex(Column(option));
                }
                catch (KeyNotFoundException e)
                {
                    throw new KeyNotFoundException($"{option}: {e.Message}", e);
                }
            }
            t.Table.RequireDataRows();
        }
        var preflight = new CausalLmPreflight(tokenizer, builder);
        return task == "sft"
            ? preflight.Sft(tables, Column("--prompt-column"), Column("--response-column"))
            : preflight.Dpo(tables, Column("--prompt-column"), Column("--chosen-column"), Column("--rejected-column"));
    }

    private static int MaxLength(ParseResult r)
    {
        var value = r.GetValue<int>("--max-length");
        return value >= 2 ? value : throw new ArgumentException($"--max-length must be at least 2 tokens, got {value}.");
    }

    private static DelimitedTable? ReadOptional(ParseResult r, string option) =>
        r.GetValue<FileInfo?>(option) is { } file ? Read(file, option) : null;

    private static DelimitedTable Read(FileInfo file, string option) =>
        file.Exists ? DelimitedTextReader.Read(file.FullName) : throw new FileNotFoundException($"{option}: file '{file.FullName}' does not exist.", file.FullName);
}
