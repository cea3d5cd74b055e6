using System.Globalization;
using System.Text.RegularExpressions;
using FineTune.MLNet.Tests.Architecture;
using FineTune.MLNet.Tests.Cli;
using FineTune.MLNet.Tests.TestSupport;
using Xunit;

namespace FineTune.MLNet.Tests.Scaffolding;

/// <summary>
/// <c>finetune new classify|sft|dpo</c>: the three generated projects are put in one solution, restored offline from the
/// NuGet packages folder, built once against this checkout's library (ProjectReference, no rebuild of the library) and
/// run on a tiny budget (<c>--epochs 1 --limit 32</c>); their output is what their README promises.
/// </summary>
public sealed class NewProjectTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    [Fact]
    public void GeneratedProjectsBuildTrainSaveReloadAndPredict()
    {
        var root = TestTempRoot.NewFolder("new");
        var repo = FolderCycleTests.RepositoryDir();
        // classify finds the checkout above the tool itself; sft and dpo are given it.
        New(root, "classify", "classify-app");
        New(root, "sft", "sft-app", "--name", "Story.Sft", "--library-path", repo);
        New(root, "dpo", "dpo-app", "--library-path", Path.Combine(repo, "src", "FineTune.MLNet", "FineTune.MLNet.csproj"));
        var projects = new[] { "classify-app/classify-app.csproj", "sft-app/Story.Sft.csproj", "dpo-app/dpo-app.csproj" };
        foreach (var project in projects)
            Assert.Contains($"<ProjectReference Include=\"{Path.Combine(repo, "src", "FineTune.MLNet", "FineTune.MLNet.csproj")}\" />", File.ReadAllText(Path.Combine(root, project)));

        File.WriteAllText(Path.Combine(root, "all.slnx"), "<Solution>\n" + string.Concat(projects.Select(p => $"  <Project Path=\"{p}\" />\n")) + "</Solution>\n");
        // Offline: the only package source is the packages folder this checkout was restored into.
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(root, "NuGet.config"),
            $"<configuration><packageSources><clear /><add key=\"local\" value=\"{packages}\" /></packageSources></configuration>\n");
        var restore = ChildProcess.Dotnet(root, Limit, "restore", "all.slnx", "-p:RestoreRecursive=false");
        Assert.True(restore.ExitCode == 0, "restore failed:\n" + restore.Output);
        // The library is already built (the tests run against it): reference its output in this configuration (a project
        // outside the solution would otherwise get the default, Debug), link the natives, leave no build servers.
        var build = ChildProcess.Dotnet(root, Limit, "build", "all.slnx", "-c", Configuration, "--no-restore", "-nodeReuse:false",
            "-p:BuildProjectReferences=false", "-p:ShouldUnsetParentConfigurationAndPlatform=false", "-p:CreateHardLinksForCopyLocalIfPossible=true", "-p:UseSharedCompilation=false");
        Assert.True(build.ExitCode == 0, "build failed:\n" + build.Output);

        var classify = Run(root, "classify-app", "classify-app.dll");
        var accuracy = double.Parse(Regex.Match(classify, @"Test accuracy: (\d\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(accuracy, 0.0, 1.0);
        var predictions = Regex.Matches(classify, @"Prediction: (Positive|Negative|Neutral)\s+\(p = (\d\.\d\d)\)");
        Assert.Equal(3, predictions.Count);
        Assert.All(predictions, m => Assert.InRange(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), 1.0 / 3 - 0.01, 1.0));
        Assert.True(File.Exists(Path.Combine(root, "classify-app", "model-out", "pipeline.json")));

        var sft = Run(root, "sft-app", "Story.Sft.dll");
        var loss = double.Parse(Regex.Match(sft, @"epoch 1: train loss (\d+\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(loss, 0.01, 10.0);
        AssertStories(sft);
        Assert.True(File.Exists(Path.Combine(root, "sft-app", "model-out", "adapter", "adapter_config.json")));

        var dpo = Run(root, "dpo-app", "dpo-app.dll");
        var firstLoss = Regex.Match(dpo, @"step 1: reward margin -?\d+\.\d+, reward accuracy \d+ %, loss (\d\.\d+)");
        Assert.True(firstLoss.Success, dpo);
        // The first DPO step: policy = reference, so the loss is ln 2 (TRL's sigmoid loss at margin 0).
        Assert.Equal(Math.Log(2), double.Parse(firstLoss.Groups[1].Value, CultureInfo.InvariantCulture), 3);
        AssertStories(dpo);
        Assert.True(File.Exists(Path.Combine(root, "dpo-app", "model-out", "adapter", "adapter_model.safetensors")));
    }

    [Fact]
    public void APackageVersionWritesAPackageReference()
    {
        var root = TestTempRoot.NewFolder("new-pkg");
        New(root, "sft", "app", "--package-version", "1.2.0-preview.1");
        var csproj = File.ReadAllText(Path.Combine(root, "app", "app.csproj"));
        Assert.Contains("<PackageReference Include=\"FineTune.MLNet\" Version=\"1.2.0-preview.1\" />", csproj);
        Assert.DoesNotContain("ProjectReference", csproj);
        var files = Directory.EnumerateFiles(Path.Combine(root, "app"), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["app/Arguments.cs", "app/Program.cs", "app/README.md", "app/StoryGeneration.cs", "app/app.csproj", "app/data/train.csv"], files);
        foreach (var file in files) Assert.DoesNotContain("{{", File.ReadAllText(Path.Combine(root, file)));
        Assert.StartsWith("Prompt,Response\n", File.ReadAllText(Path.Combine(root, "app", "data", "train.csv")));
    }

    [Theory]
    [InlineData("regress", "", "Unknown project kind 'regress'")]
    [InlineData("sft", "--package-version=1 0", "--package-version")]
    [InlineData("sft", "--library-path=/nonexistent/checkout", "--library-path")]
    [InlineData("sft", "--name=bad/name", "--name")]
    public void BadInputNamesTheArgument(string kind, string flag, string expected)
    {
        var root = TestTempRoot.NewFolder("new-bad");
        var args = new List<string> { "new", kind, Path.Combine(root, "app") };
        if (flag.Length > 0) args.AddRange(flag.Split('=', 2));
        var (code, _, stderr) = CliRunner.Run([.. args]);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(Path.Combine(root, "app")) && Directory.EnumerateFileSystemEntries(Path.Combine(root, "app")).Any());
    }

    [Fact]
    public void ANonEmptyFolderIsRefused()
    {
        var root = TestTempRoot.NewFolder("new-full");
        File.WriteAllText(Path.Combine(root, "keep.txt"), "mine");
        var (code, _, stderr) = CliRunner.Run("new", "dpo", root, "--package-version", "1.0.0");
        Assert.Equal(2, code);
        Assert.Contains("is not empty", stderr);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
    }

    private static void New(string root, string kind, string dir, params string[] more)
    {
        var (code, stdout, stderr) = CliRunner.Run(["new", kind, Path.Combine(root, dir), .. more]);
        Assert.True(code == 0, $"finetune new {kind}: exit {code}\n{stdout}{stderr}");
    }

    private static string Run(string root, string project, string dll)
    {
        var dir = Path.Combine(root, project);
        var (code, output) = ChildProcess.Dotnet(dir, Limit, Path.Combine("bin", Configuration, "net10.0", dll), "--epochs", "1", "--limit", "32", "--output", "model-out");
        Assert.True(code == 0, $"{project}: exit {code}\n{output}");
        Assert.Contains("and reloaded.", output);
        return output;
    }

    /// <summary>Two generated stories, each its prompt followed by at least a few more words.</summary>
    private static void AssertStories(string output)
    {
        var stories = Regex.Matches(output, @"^Story: (.+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, stories.Count);
        Assert.StartsWith("Once upon a time, there was a little dog named Max. ", stories[0]);
        Assert.StartsWith("Sara found a shiny key in the garden. ", stories[1]);
        Assert.All(stories, s => Assert.True(s.Split(' ').Length >= 15, $"story too short: {s}"));
    }
}
