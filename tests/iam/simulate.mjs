// Evaluate a batch of IAM requests with @cloud-copilot/iam-simulate (test-only, AGPL-3.0).
// stdin: a JSON array of simulations ({request, identityPolicies, resourcePolicy?, ...});
// stdout: a JSON array, one {result, errors} per simulation, in order. One process per batch.
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const answers = []
for (const simulation of simulations) {
  const response = await runSimulation(
    { serviceControlPolicies: [], resourceControlPolicies: [], ...simulation },
    {}
  )
  if (response.resultType === 'error') {
    answers.push({ result: 'Error', errors: response.errors })
  } else {
    answers.push({ result: response.overallResult, errors: null })
  }
}
process.stdout.write(JSON.stringify(answers))
