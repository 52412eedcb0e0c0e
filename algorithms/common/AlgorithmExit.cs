namespace Kaapana.Algorithms;

/// <summary>
/// The exit codes every algorithm image shares (the engine reads them): 0 done, 2 bad parameters or input (message on
/// stderr), 1 anything unexpected (with the exception, for the run's log).
/// </summary>
public static class AlgorithmExit
{
    public static int Run(string name, Func<int> body) =>
        RunAsync(name, () => Task.FromResult(body())).GetAwaiter().GetResult();

    public static async Task<int> RunAsync(string name, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (AlgorithmInputException e)
        {
            Console.Error.WriteLine($"{name}: error: {e.Message}");
            return 2;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{name}: failed: {e}");
            return 1;
        }
    }
}
