using System.Runtime.InteropServices;

namespace Notifications.Hosting.Processes;

internal static partial class NativeMethods
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends a signal; <see cref="System.Diagnostics.Process"/> can only kill, not ask politely.</summary>
    public static bool SendSignal(int processId, int signal) => kill(processId, signal) == 0;

    public static bool IsRoot => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? geteuid() == 0 : false;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
