// The Message-ID of one step of one enrolment: the same on every attempt, so the sent-log, the
// receiving servers and the recipient's client all see one message however often a send is retried.
export const stepMessageId = (input: { enrollmentId: string; step: number; from: string }): string => {
  const domain = input.from.slice(input.from.lastIndexOf('@') + 1);
  return `<${input.enrollmentId}.${input.step}@${domain}>`;
};
