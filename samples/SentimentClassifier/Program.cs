System.Console.WriteLine("sample");
