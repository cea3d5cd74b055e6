using System.Globalization;
using FineTune.MLNet.Training;
using FineTune.MLNet.Training.Resume;

namespace FineTune.MLNet.Cli.Commands;

/// <summary>
/// For the SIGKILL tests only: the process stops at a chosen point, prints <see cref="HoldNotice"/> on standard error and
/// waits to be killed, so a kill aimed at a checkpoint write or at a training step lands there however loaded the machine
/// is. Unset variables change nothing.
/// <list type="bullet">
/// <item><c>FINETUNE_HOLD_IN_CHECKPOINT_WRITE=N:FILE</c>: the N-th checkpoint write of this process holds right after
/// writing FILE into its temporary folder (model.safetensors, optimizer.safetensors, rng.safetensors, trainer_state.json
/// or manifest.json; the folder is not renamed into place yet).</item>
/// <item><c>FINETUNE_HOLD_IN_STEP=K</c>: the K-th optimizer step of this process holds after its first backward pass,
/// before the weights are updated.</item>
/// </list>
/// </summary>
internal static class FaultInjection
{
    public const string WriteVariable = "FINETUNE_HOLD_IN_CHECKPOINT_WRITE";
    public const string StepVariable = "FINETUNE_HOLD_IN_STEP";
    public const string HoldNotice = "fault injection: holding";
    private static readonly TimeSpan MaxHold = TimeSpan.FromMinutes(2);

    public static void InstallFromEnvironment()
    {
        if (Environment.GetEnvironmentVariable(WriteVariable) is { Length: > 0 } write) HoldInWrite(write);
        if (Environment.GetEnvironmentVariable(StepVariable) is { Length: > 0 } step) HoldInStep(step);
    }

    private static void HoldInWrite(string value)
    {
        var parts = value.Split(':');
        if (parts.Length != 2 || !TryPositive(parts[0], out var target))
            throw new InvalidDataException($"{WriteVariable}: expected WRITE:FILE with WRITE >= 1 (e.g. 2:optimizer.safetensors), got '{value}'.");
        var file = parts[1];
        var writes = 0;
        ResumeCheckpointStore.FileWritten = (folder, written) =>
        {
            if (written == "model.safetensors") writes++;   // the first file of every write
            if (writes == target && written == file) Hold($"checkpoint write {writes} after {written} in {folder}");
        };
    }

    private static void HoldInStep(string value)
    {
        if (!TryPositive(value, out var target)) throw new InvalidDataException($"{StepVariable}: expected a step count >= 1, got '{value}'.");
        long previous = -1;
        var steps = 0;
        TrainingLoop.InsideStep = step =>
        {
            if (step == previous) return;   // a later micro-batch of the same step
            previous = step;
            if (++steps == target) Hold($"inside step {step} after its backward pass");
        };
    }

    private static bool TryPositive(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= 1;

    private static void Hold(string where)
    {
        Console.Error.WriteLine($"\n{HoldNotice} {where}");
        Console.Error.Flush();
        Thread.Sleep(MaxHold);
        Console.Error.WriteLine($"fault injection: nobody killed the process within {MaxHold.TotalSeconds:F0} s.");
        Environment.Exit(98);
    }
}
