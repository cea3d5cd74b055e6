namespace FineTune.MLNet.ChatTemplates;

/// <summary>One turn of a conversation, as passed to a chat template's <c>messages</c> list.</summary>
/// <param name="Role">The speaker: usually <c>system</c>, <c>user</c> or <c>assistant</c>.</param>
/// <param name="Content">The text of the turn.</param>
public sealed record ChatMessage(string Role, string Content);
