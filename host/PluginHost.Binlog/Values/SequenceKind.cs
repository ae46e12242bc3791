namespace PluginHost.Binlog.Values;

/// <summary>How a multi-byte character set cuts its bytes into characters.</summary>
internal enum SequenceKind
{
    /// <summary>A lead byte 0x81-0xFE takes one more byte (big5, gbk, gb2312, euckr).</summary>
    Dbcs,

    /// <summary>Lead bytes 0x81-0x9F and 0xE0-0xFC take one more byte (sjis, cp932).</summary>
    ShiftJis,

    /// <summary>0x8E and 0xA1-0xFE take one more byte, 0x8F two more: JIS X 0212 (ujis, eucjpms).</summary>
    EucJp,

    /// <summary>Like <see cref="Dbcs"/>, or four bytes when the second is a digit 0x30-0x39 (gb18030).</summary>
    Gb18030,
}
