System.Console.WriteLine("finetune");
