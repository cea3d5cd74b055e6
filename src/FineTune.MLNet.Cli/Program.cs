using System.CommandLine;
using System.Globalization;
using FineTune.MLNet.Cli.Commands;
using FineTune.MLNet.Cli.Config;

// Numbers on the command line and in the output are invariant ("--lr 0.5" is a half under every locale; under de-DE the
// current culture would read it as 5).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

FaultInjection.InstallFromEnvironment();

var root = new RootCommand("finetune: fine-tune pretrained transformer models from the command line (FineTune.MLNet).");
root.Subcommands.Add(ClassifyCommand.Create());
root.Subcommands.Add(EncodeCommand.Create());
root.Subcommands.Add(SftCommand.Create());
root.Subcommands.Add(DpoCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(LogitsCommand.Create());
root.Subcommands.Add(PerplexityCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ExportOnnxCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(ExportGgufCommand.Create());
root.Subcommands.Add(NewCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
var import = new Command("import", "Convert models from other formats to Hugging Face folders.");
import.Subcommands.Add(ImportGgufCommand.Create());
import.Subcommands.Add(ImportLlama2cCommand.Create());
root.Subcommands.Add(import);
ConfigFileArguments.AddTo(root);
try
{
    args = ConfigFileArguments.Expand(root, args);
}
catch (Exception e) when (e is ConfigFileException or FileNotFoundException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return CliErrors.BadInput;
}
var parsed = root.Parse(args);
CliRunFolder.Current = parsed;
return parsed.Invoke();
