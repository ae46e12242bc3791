using System.Text;

namespace PluginHost.Binlog.Values;

/// <summary>Decodes each byte a decoder cannot read as <c>\xNN</c> (for collation ids we do not know: such text is valid
/// UTF-8 or shows its bytes, never passes for other characters).</summary>
internal sealed class HexDecoderFallback : DecoderFallback
{
    public override int MaxCharCount => 16;

    public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer();

    private sealed class Buffer : DecoderFallbackBuffer
    {
        private string _text = "";
        private int _next;

        public override int Remaining => _text.Length - _next;

        public override bool Fallback(byte[] bytesUnknown, int index)
        {
            _text = string.Concat(bytesUnknown.Select(b => $"\\x{b:X2}"));
            _next = 0;
            return _text.Length > 0;
        }

        public override char GetNextChar() => _next < _text.Length ? _text[_next++] : '\0';

        public override bool MovePrevious()
        {
            if (_next == 0) return false;
            _next--;
            return true;
        }

        public override void Reset()
        {
            _text = "";
            _next = 0;
        }
    }
}
