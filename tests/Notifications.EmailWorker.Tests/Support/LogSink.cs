using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Notifications.EmailWorker.Tests.Support;

/// <summary>Keeps what a test host logged, so a failing wait can show it.</summary>
internal sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public string Tail(int count = 60) => string.Join(Environment.NewLine, _lines.TakeLast(count));

    public ILogger CreateLogger(string categoryName) => new SinkLogger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class SinkLogger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var shortCategory = category[(category.LastIndexOf('.') + 1)..];
            sink._lines.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {logLevel} {shortCategory}[{eventId.Id}] {formatter(state, exception)}"
                + (exception is null ? "" : $" {exception.GetType().Name}: {exception.Message}"));
        }
    }
}
