using System.Buffers.Binary;
using System.Text;

namespace PluginHost.Tests.Binlog.Protocol;

/// <summary>Builders for server packets.</summary>
internal static class FakePackets
{
    public const uint MySql8Capabilities =
        0x00000001 | 0x00000004 | 0x00000008 | 0x00000200 | 0x00002000 | 0x00008000 | 0x00010000 | 0x00020000
        | 0x00080000 | 0x00200000 | 0x01000000;

    /// <summary>A handshake v10 packet.</summary>
    public static byte[] Handshake(string version, uint connectionId, byte[] scramble20, uint capabilities, string pluginName, uint mariaDbExtended = 0, ushort status = 2)
    {
        var b = new List<byte> { 10 };
        b.AddRange(Encoding.ASCII.GetBytes(version));
        b.Add(0);
        b.AddRange(LE32(connectionId));
        b.AddRange(scramble20.AsSpan(0, 8).ToArray());
        b.Add(0);
        b.AddRange(LE16((ushort)capabilities));
        b.Add(45);
        b.AddRange(LE16(status));
        b.AddRange(LE16((ushort)(capabilities >> 16)));
        b.Add(21);
        b.AddRange(new byte[6]);
        b.AddRange(LE32(mariaDbExtended));
        b.AddRange(scramble20.AsSpan(8, 12).ToArray());
        b.Add(0);
        b.AddRange(Encoding.ASCII.GetBytes(pluginName));
        b.Add(0);
        return b.ToArray();
    }

    public static byte[] Ok(ushort status = 2, byte header = 0x00) => [header, 0, 0, (byte)status, (byte)(status >> 8), 0, 0];

    public static byte[] Eof(ushort status = 2) => [0xFE, 0, 0, (byte)status, (byte)(status >> 8)];

    public static byte[] Error(ushort code, string sqlState, string message)
    {
        var b = new List<byte> { 0xFF };
        b.AddRange(LE16(code));
        b.Add((byte)'#');
        b.AddRange(Encoding.ASCII.GetBytes(sqlState));
        b.AddRange(Encoding.UTF8.GetBytes(message));
        return b.ToArray();
    }

    public static byte[] ColumnDefinition(string name)
    {
        var b = new List<byte>();
        void Lenenc(string s)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s);
            b.Add((byte)bytes.Length);
            b.AddRange(bytes);
        }

        Lenenc("def");
        Lenenc("");
        Lenenc("");
        Lenenc("");
        Lenenc(name);
        Lenenc("");
        b.Add(0x0C);
        b.AddRange(LE16(45));
        b.AddRange(LE32(21));
        b.Add(0xFD);
        b.AddRange(LE16(0));
        b.Add(0);
        b.AddRange(LE16(0));
        return b.ToArray();
    }

    /// <summary>A text row; null values become 0xFB.</summary>
    public static byte[] Row(params string?[] values)
    {
        var b = new List<byte>();
        foreach (string? value in values)
        {
            if (value is null)
            {
                b.Add(0xFB);
                continue;
            }

            byte[] bytes = Encoding.UTF8.GetBytes(value);
            b.Add((byte)bytes.Length);
            b.AddRange(bytes);
        }

        return b.ToArray();
    }

    public static byte[] LE16(ushort v)
    {
        byte[] r = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(r, v);
        return r;
    }

    public static byte[] LE32(uint v)
    {
        byte[] r = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(r, v);
        return r;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
