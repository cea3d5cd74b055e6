using System.CommandLine;
using FineTune.MLNet.Cli.Commands;

var root = new RootCommand("finetune: fine-tune pretrained transformer models from the command line (FineTune.MLNet).");
root.Subcommands.Add(ClassifyCommand.Create());
root.Subcommands.Add(EncodeCommand.Create());
root.Subcommands.Add(SftCommand.Create());
root.Subcommands.Add(DpoCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(LogitsCommand.Create());
root.Subcommands.Add(ExportOnnxCommand.Create());
root.Subcommands.Add(ExportGgufCommand.Create());
var import = new Command("import", "Convert models from other formats to Hugging Face folders.");
import.Subcommands.Add(ImportGgufCommand.Create());
root.Subcommands.Add(import);
return root.Parse(args).Invoke();
