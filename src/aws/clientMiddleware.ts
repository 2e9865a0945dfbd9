/** The part of an SDK client that our middleware is added to (any client: ECS, EC2, SSM, SQS, STS). */
export interface ClientWithMiddleware {
  middlewareStack: {
    add(middleware: unknown, options: { step: 'initialize'; priority: 'high'; name: string }): void;
    add(middleware: unknown, options: { step: 'deserialize'; priority: 'low'; name: string }): void;
    addRelativeTo(middleware: unknown, options: { relation: 'after'; toMiddleware: string; name: string }): void;
    remove(name: string): boolean;
  };
}
