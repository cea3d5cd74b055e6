using System.CommandLine;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// <c>finetune check classify|sft|dpo ...</c>: the preflight of a training command alone, with exactly that command's
/// flags (each subcommand is the training command itself with the preflight as its action); writes OUTPUT/preflight.json,
/// exits 0 with warnings only and 2 with errors.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var check = new Command("check", "Check data and settings of a training run before it starts (preflight); writes OUTPUT/preflight.json.");
        foreach (var (task, create) in new (string, Func<Command>)[] { ("classify", ClassifyCommand.Create), ("sft", SftCommand.Create), ("dpo", DpoCommand.Create) })
        {
            var command = create();
            command.Description = $"Preflight of 'finetune {task}' with the same flags: data, tokenization, truncation, memory; trains nothing.";
            command.SetAction(r => PreflightGate.Check(r, task));
            check.Subcommands.Add(command);
        }
        return check;
    }
}
