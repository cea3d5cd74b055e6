namespace FineTune.MLNet.Tokenization.HuggingFace;

/// <summary>An entry of <c>added_tokens</c> in <c>tokenizer.json</c> (or <c>added_tokens_decoder</c> in
/// <c>tokenizer_config.json</c>): matched in raw text before normalization and emitted as one id.</summary>
/// <param name="Id">Token id.</param>
/// <param name="Content">The exact text of the token, e.g. <c>&lt;|im_start|&gt;</c>.</param>
/// <param name="Special">Special tokens are dropped by <c>Decode(..., skipSpecialTokens: true)</c>.</param>
/// <param name="LStrip">The match swallows whitespace on its left.</param>
/// <param name="RStrip">The match swallows whitespace on its right.</param>
/// <param name="SingleWord">Only matched when not inside a word.</param>
internal sealed record HfAddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false);
