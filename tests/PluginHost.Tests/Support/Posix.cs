using System.Runtime.InteropServices;

namespace PluginHost.Tests.Support;

internal static partial class Posix
{
    [LibraryImport("libc", EntryPoint = "kill")]
    public static partial int Kill(int pid, int signal);
}
