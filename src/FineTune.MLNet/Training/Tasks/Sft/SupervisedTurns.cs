namespace FineTune.MLNet.Training.Tasks.Sft;

/// <summary>Which assistant turns of a multi-turn conversation carry loss.</summary>
public enum SupervisedTurns
{
    /// <summary>Only the last message (the final assistant reply); every earlier turn is context. TRL's default.</summary>
    LastAssistant,

    /// <summary>Every assistant message (torchtune's <c>train_on_input=False</c> over a whole conversation).</summary>
    AllAssistant,
}
